/**
 * V8 `.cpuprofile` files (what `node --cpu-prof` and Chrome DevTools write): read and check them,
 * cut them to a time window, and turn them into stacks. Pure.
 */
import { badInput } from '../core/index.js'
import { displayFile, formatFrame } from './frames.js'
import { stackProfile, type StackProfile, type WeightedStack } from './stacks.js'

export interface CallFrame {
  functionName: string
  url: string
  /** 0-based; -1 when unknown. */
  lineNumber: number
  columnNumber: number
  scriptId?: string | number
}

export interface CpuProfileNode {
  id: number
  callFrame: CallFrame
  hitCount?: number
  children?: number[]
  positionTicks?: Array<{ line: number; ticks: number }>
}

export interface CpuProfile {
  nodes: CpuProfileNode[]
  /** Microseconds on the monotonic clock (the clock of process.hrtime). */
  startTime: number
  endTime: number
  /** Node id of each sample. */
  samples?: number[]
  /** Microseconds since the previous sample (the first: since startTime). */
  timeDeltas?: number[]
}

/** Microseconds on the same clock as the profile's startTime. */
export interface TimeWindow {
  fromUs: number
  toUs: number
}

export function parseCpuProfile(text: string, source: string): CpuProfile {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw badInput(
      `Cannot read CPU profile ${source}: ${describeJsonError(text, error as Error)}`,
      'Capture it again (node --cpu-prof, or opsctl profile); a profile is written when the process exits.',
    )
  }
  return checkCpuProfile(value, source)
}

/** Where JSON.parse stopped, as line and column, and whether the text simply ends early. */
export function describeJsonError(text: string, error: Error): string {
  // V8 names the position in some messages only; find it ourselves otherwise
  const atPosition = /position (\d+)/.exec(error.message)
  const position = atPosition ? Number(atPosition[1]) : jsonErrorOffset(text)
  const truncated = /end of (JSON )?input|Unterminated/i.test(error.message) || position >= text.trimEnd().length
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  if (truncated) return `the JSON ends early at line ${line}, column ${column} (the file is truncated)`
  const detail = error.message.replace(/ (in JSON )?at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')
  return `invalid JSON at line ${line}, column ${column}: ${detail}`
}

const JSON_LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y

/** Offset of the first JSON syntax error (text.length when the text ends early). */
export function jsonErrorOffset(text: string): number {
  let at = 0
  const fail = (): never => {
    throw new RangeError(String(at))
  }
  const space = () => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\n' || text[at] === '\r' || text[at] === '\t')) at++
  }
  const string = () => {
    at++
    while (at < text.length) {
      const char = text[at]!
      if (char === '"') return void at++
      if (char === '\\') at += 2
      else if (char < ' ') fail()
      else at++
    }
    fail()
  }
  const value = (): void => {
    space()
    const char = text[at]
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']'
      at++
      space()
      if (text[at] === close) return void at++
      for (;;) {
        if (close === '}') {
          space()
          if (text[at] !== '"') fail()
          string()
          space()
          if (text[at] !== ':') fail()
          at++
        }
        value()
        space()
        if (text[at] === ',') at++
        else if (text[at] === close) return void at++
        else fail()
      }
    }
    if (char === '"') return string()
    JSON_LITERAL.lastIndex = at
    const match = JSON_LITERAL.exec(text)
    if (!match) fail()
    at += match![0].length
  }
  try {
    value()
    space()
    return at < text.length ? at : text.length
  } catch {
    return Math.min(at, text.length)
  }
}

function checkCpuProfile(value: unknown, source: string): CpuProfile {
  const fail = (path: string, expected: string) =>
    badInput(
      `${source} is not a V8 CPU profile: ${path} should be ${expected}`,
      'Give a .cpuprofile written by node --cpu-prof or Chrome DevTools, or a folded-stack file.',
    )
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('the document', 'an object with "nodes"')
  const profile = value as Record<string, unknown>
  if (!Array.isArray(profile.nodes) || profile.nodes.length === 0) throw fail('nodes', 'a non-empty array')
  const ids = new Set<number>()
  profile.nodes.forEach((node: unknown, index) => {
    const at = `nodes[${index}]`
    if (typeof node !== 'object' || node === null) throw fail(at, 'an object')
    const { id, callFrame, children, hitCount } = node as Record<string, unknown>
    if (!Number.isInteger(id)) throw fail(`${at}.id`, 'an integer')
    ids.add(id as number)
    if (typeof callFrame !== 'object' || callFrame === null) throw fail(`${at}.callFrame`, 'an object')
    const frame = callFrame as Record<string, unknown>
    if (typeof frame.functionName !== 'string') throw fail(`${at}.callFrame.functionName`, 'a string')
    if (typeof frame.url !== 'string') throw fail(`${at}.callFrame.url`, 'a string')
    if (typeof frame.lineNumber !== 'number') throw fail(`${at}.callFrame.lineNumber`, 'a number')
    if (children !== undefined && !(Array.isArray(children) && children.every(Number.isInteger)))
      throw fail(`${at}.children`, 'an array of node ids')
    if (hitCount !== undefined && typeof hitCount !== 'number') throw fail(`${at}.hitCount`, 'a number')
  })
  for (const [index, node] of (profile.nodes as CpuProfileNode[]).entries()) {
    const missing = node.children?.find((child) => !ids.has(child))
    if (missing !== undefined) throw fail(`nodes[${index}].children`, `ids of nodes in the profile (no node ${missing})`)
  }
  if (typeof profile.startTime !== 'number' || typeof profile.endTime !== 'number')
    throw fail('startTime and endTime', 'numbers (microseconds)')
  if (profile.samples !== undefined) {
    if (!Array.isArray(profile.samples) || !profile.samples.every((id) => ids.has(id as number)))
      throw fail('samples', 'an array of node ids')
    if (!Array.isArray(profile.timeDeltas) || profile.timeDeltas.length !== profile.samples.length)
      throw fail('timeDeltas', 'an array as long as samples')
  }
  return profile as unknown as CpuProfile
}

/** Samples per node id, only those inside the window when one is given (and the profile has timestamps). */
export function sampleCounts(profile: CpuProfile, window?: TimeWindow): Map<number, number> {
  const counts = new Map<number, number>()
  if (profile.samples && profile.samples.length > 0 && profile.timeDeltas) {
    let time = profile.startTime
    for (let index = 0; index < profile.samples.length; index++) {
      time += profile.timeDeltas[index]!
      if (window && (time < window.fromUs || time > window.toUs)) continue
      const id = profile.samples[index]!
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    return counts
  }
  for (const node of profile.nodes) if (node.hitCount) counts.set(node.id, node.hitCount)
  return counts
}

/** The same profile with only the samples inside the window: what the summary and the folded file describe. */
export function trimCpuProfile(profile: CpuProfile, window: TimeWindow): CpuProfile {
  if (!profile.samples || !profile.timeDeltas) return profile
  const samples: number[] = []
  const timeDeltas: number[] = []
  const startTime = Math.max(profile.startTime, window.fromUs)
  let previous = startTime
  let time = profile.startTime
  for (let index = 0; index < profile.samples.length; index++) {
    time += profile.timeDeltas[index]!
    if (time < window.fromUs || time > window.toUs) continue
    samples.push(profile.samples[index]!)
    timeDeltas.push(time - previous)
    previous = time
  }
  const counts = new Map<number, number>()
  for (const id of samples) counts.set(id, (counts.get(id) ?? 0) + 1)
  const nodes = profile.nodes.map(({ positionTicks: _ticks, ...node }) => ({ ...node, hitCount: counts.get(node.id) ?? 0 }))
  return { nodes, startTime, endTime: Math.min(profile.endTime, window.toUs), samples, timeDeltas }
}

export interface StackOptions {
  /** File paths under it are shown relative to it. */
  baseDir?: string
  window?: TimeWindow
}

export function frameLabel(frame: CallFrame, baseDir?: string): string {
  const file = displayFile(frame.url, baseDir)
  return formatFrame({
    name: frame.functionName,
    ...(file ? { file } : {}),
    ...(file && frame.lineNumber >= 0 ? { line: frame.lineNumber + 1 } : {}),
    ...(file && frame.lineNumber >= 0 && frame.columnNumber >= 0 ? { column: frame.columnNumber + 1 } : {}),
  })
}

export function cpuProfileStacks(profile: CpuProfile, options: StackOptions = {}): StackProfile {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const paths = new Map<number, string[]>()
  const pathOf = (id: number): string[] => {
    const known = paths.get(id)
    if (known) return known
    // iterative walk up, so that deep recursion in the profiled code cannot overflow our stack
    const chain: number[] = []
    let current: number | undefined = id
    while (current !== undefined && !paths.has(current)) {
      chain.push(current)
      current = parent.get(current)
    }
    let frames = current === undefined ? [] : paths.get(current)!
    for (let index = chain.length - 1; index >= 0; index--) {
      const node = byId.get(chain[index]!)!
      const isRoot = node.callFrame.functionName === '(root)' && !parent.has(node.id)
      frames = isRoot ? frames : [...frames, frameLabel(node.callFrame, options.baseDir)]
      paths.set(node.id, frames)
    }
    return frames
  }
  const stacks: WeightedStack[] = []
  for (const [id, count] of sampleCounts(profile, options.window)) {
    const frames = pathOf(id)
    stacks.push({ frames: frames.length ? frames : ['(root)'], weight: count })
  }
  const from = options.window ? Math.max(profile.startTime, options.window.fromUs) : profile.startTime
  const to = options.window ? Math.min(profile.endTime, options.window.toUs) : profile.endTime
  const samples = profile.samples?.length ?? 0
  return stackProfile('samples', stacks, {
    durationMs: Math.max(0, (to - from) / 1000),
    ...(samples > 1 ? { intervalUs: Math.round((profile.endTime - profile.startTime) / samples) } : {}),
  })
}
