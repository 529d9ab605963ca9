import { badInput } from '../../../core/index.js'

/** The fields a log_line_prefix can carry that opsctl uses. */
export type PrefixField = 'time' | 'epoch' | 'pid' | 'session' | 'user' | 'database' | 'application' | 'sqlstate'

export interface CompiledPrefix {
  /** Matches a whole primary line: prefix, severity, message. */
  pattern: RegExp
  /** Capture group of each field; severity and message are the last two groups. */
  groups: Partial<Record<PrefixField, number>>
  severityGroup: number
  messageGroup: number
  source: string
}

const TIMESTAMP_MS = String.raw`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?: [A-Za-z][A-Za-z0-9+-]{0,7}| [+-]\d\d(?::?\d\d)?)?)`
const TIMESTAMP = String.raw`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Za-z][A-Za-z0-9+-]{0,7}| [+-]\d\d(?::?\d\d)?)?)`

/** log_line_prefix escape -> regex (capturing when opsctl uses the field). */
const ESCAPES: Record<string, { regex: string; field?: PrefixField }> = {
  m: { regex: TIMESTAMP_MS, field: 'time' },
  t: { regex: TIMESTAMP, field: 'time' },
  n: { regex: String.raw`(\d+\.\d+)`, field: 'epoch' },
  s: { regex: String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Za-z][A-Za-z0-9+-]{0,7}| [+-]\d\d(?::?\d\d)?)?` },
  p: { regex: String.raw`(\d+)`, field: 'pid' },
  P: { regex: String.raw`\d*` },
  c: { regex: String.raw`([0-9a-f]+\.[0-9a-f]+)`, field: 'session' },
  l: { regex: String.raw`\d+` },
  u: { regex: String.raw`(\S*?)`, field: 'user' },
  d: { regex: String.raw`(\S*?)`, field: 'database' },
  a: { regex: String.raw`(.*?)`, field: 'application' },
  h: { regex: String.raw`\S*?` },
  r: { regex: String.raw`\S*?` },
  L: { regex: String.raw`\S*?` },
  b: { regex: String.raw`.*?` },
  i: { regex: String.raw`.*?` },
  e: { regex: String.raw`([0-9A-Z]{5})`, field: 'sqlstate' },
  v: { regex: String.raw`\S*?` },
  x: { regex: String.raw`\d*` },
  Q: { regex: String.raw`-?\d*` },
}

export const SEVERITIES = 'LOG|ERROR|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION|WARNING|NOTICE|INFO|FATAL|PANIC|DEBUG[1-5]?'

/**
 * Compiles a log_line_prefix, in PostgreSQL's own % escapes, into one anchored regex for
 * primary lines. Everything after %q is optional (PostgreSQL leaves it out for processes
 * without a session, like the checkpointer). Padding (`%-10u`) is accepted.
 */
export function compilePrefix(prefix: string): CompiledPrefix {
  let regex = '^'
  let optionalOpen = false
  let group = 0
  const groups: Partial<Record<PrefixField, number>> = {}
  for (let i = 0; i < prefix.length; i++) {
    const char = prefix[i]!
    if (char !== '%') {
      regex += char === ' ' ? ' ' : char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
      continue
    }
    let j = i + 1
    let padded = false
    while (j < prefix.length && /[-\d]/.test(prefix[j]!)) {
      padded = true
      j++
    }
    const escape = prefix[j]
    i = j
    if (escape === undefined)
      throw badInput(`log_line_prefix "${prefix}" ends with a lone %`, 'Copy log_line_prefix exactly as SHOW log_line_prefix prints it.')
    if (escape === '%') {
      regex += '%'
      continue
    }
    if (escape === 'q') {
      if (!optionalOpen) {
        regex += '(?:'
        optionalOpen = true
      }
      continue
    }
    const known = ESCAPES[escape]
    if (!known)
      throw badInput(
        `log_line_prefix "${prefix}" has an unknown escape %${escape}`,
        'See "log_line_prefix" in the PostgreSQL documentation for the escapes.',
      )
    let part = known.regex
    if (known.field) {
      group++
      if (groups[known.field] === undefined) groups[known.field] = group
      else part = part.replace(/^\(/, '(?:')
      if (part.startsWith('(?:')) group--
    }
    regex += padded ? ` *${part} *` : part
  }
  if (optionalOpen) regex += ')?'
  const severityGroup = group + 1
  const messageGroup = group + 2
  regex += `(${SEVERITIES}):  (.*)$`
  return { pattern: new RegExp(regex, 's'), groups, severityGroup, messageGroup, source: prefix }
}

const ZONE_OFFSETS_MINUTES: Record<string, number> = {
  UTC: 0,
  GMT: 0,
  Z: 0,
  UT: 0,
  WET: 0,
  WEST: 60,
  BST: 60,
  IST: 330,
  CET: 60,
  CEST: 120,
  MET: 60,
  MEST: 120,
  EET: 120,
  EEST: 180,
  MSK: 180,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
  AKST: -540,
  AKDT: -480,
  HST: -600,
  JST: 540,
  KST: 540,
  HKT: 480,
  SGT: 480,
  AWST: 480,
  ACST: 570,
  ACDT: 630,
  AEST: 600,
  AEDT: 660,
  NZST: 720,
  NZDT: 780,
}

/**
 * Timestamps as PostgreSQL writes them (`2024-05-01 12:00:00.123 UTC`, `... +02`) -> epoch ms.
 * Logs are sequential, so the date-time-to-the-second is cached: one Date.UTC per second of log.
 */
export class TimestampParser {
  private lastSecondText = ''
  private lastSecondMs = 0
  private readonly zoneCache = new Map<string, number>()
  readonly unknownZones = new Set<string>()

  parse(text: string): number | undefined {
    if (text.length < 19) return undefined
    const secondText = text.slice(0, 19)
    let base: number
    if (secondText === this.lastSecondText) base = this.lastSecondMs
    else {
      const year = num(text, 0, 4)
      const month = num(text, 5, 2)
      const day = num(text, 8, 2)
      const hour = num(text, 11, 2)
      const minute = num(text, 14, 2)
      const second = num(text, 17, 2)
      if ([year, month, day, hour, minute, second].some(Number.isNaN)) return undefined
      base = Date.UTC(year, month - 1, day, hour, minute, second)
      this.lastSecondText = secondText
      this.lastSecondMs = base
    }
    let i = 19
    let fraction = 0
    if (text.charCodeAt(i) === 46) {
      let scale = 100
      i++
      while (i < text.length) {
        const code = text.charCodeAt(i)
        if (code < 48 || code > 57) break
        fraction += (code - 48) * scale
        scale /= 10
        i++
      }
    }
    const zone = i < text.length ? text.slice(i + 1) : ''
    return base + fraction - this.zoneOffset(zone) * 60_000
  }

  private zoneOffset(zone: string): number {
    if (zone === '' || zone === 'UTC') return 0
    let offset = this.zoneCache.get(zone)
    if (offset === undefined) {
      const numeric = /^([+-])(\d\d):?(\d\d)?$/.exec(zone)
      if (numeric) offset = (numeric[1] === '-' ? -1 : 1) * (Number(numeric[2]) * 60 + Number(numeric[3] ?? 0))
      else {
        offset = ZONE_OFFSETS_MINUTES[zone.toUpperCase()]
        if (offset === undefined) {
          this.unknownZones.add(zone)
          offset = 0
        }
      }
      this.zoneCache.set(zone, offset)
    }
    return offset
  }
}

function num(text: string, start: number, length: number): number {
  let value = 0
  for (let i = start; i < start + length; i++) {
    const code = text.charCodeAt(i)
    if (code < 48 || code > 57) return Number.NaN
    value = value * 10 + code - 48
  }
  return value
}
