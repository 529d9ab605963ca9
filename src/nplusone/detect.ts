import { nplusoneOptions } from './config.js'
import { compileIgnoreList, type IgnoreMatcher } from './ignore.js'
import { QueryIdentifier, isDataStatement, type QueryIdentity } from './identity.js'
import { detach, literalValues } from './lexical.js'
import { suggestFix } from './fix.js'
import type { NPlusOneOptions, NPlusOnePattern, NPlusOneReport, QueryExecution, UnitRef, UnitSummary } from './types.js'

/** Units given by the source are closed after this long without a statement: not a user setting, a bound on memory. */
const UNIT_TIMEOUT_MS = 60_000

/** Units open at once; beyond this the oldest are closed, so memory stays flat on any input. */
const MAX_OPEN_UNITS = 50_000
const MAX_FINGERPRINTS_PER_UNIT = 10_000
const SWEEP_EVERY = 2048
const MAX_SAMPLES = 3

interface UnitEntry {
  identity: QueryIdentity
  count: number
  timed: number
  totalMs: number
  producer?: QueryIdentity
  callSites?: Map<string, number>
  samples?: string[][]
}

interface OpenUnit {
  key: string
  ref: UnitRef
  firstMs?: number
  lastMs?: number
  entries: Map<string, UnitEntry>
  /** The last read or write in the unit: the producer of whatever repeats next. */
  lastData?: QueryIdentity
  /** Fingerprint of the unit's first read or write: when it comes round again in a session, a new request has begun. */
  firstData?: string
  inTransaction: boolean
  /** Cut by transactions and idle gaps (a session) rather than given by the source. */
  session: boolean
  /** The session's name (process id or session id) and its process id, for session units. */
  sessionName?: string
  pid?: number
  /** How the unit is summarised across units: a route or span name, `user@database` for sessions. */
  where: string
  executions: number
}

interface PatternAccumulator {
  identity: QueryIdentity
  units: number
  executions: number
  maxPerUnit: number
  timed: number
  totalMs: number
  worst: UnitSummary
  where: Map<string, number>
  producers: Map<string, { identity: QueryIdentity; units: number }>
  callSites: Map<string, number>
  samples: string[][]
  /** Occurrences kept (at most maxOccurrences), the number left out, and which kept one would go first. */
  occurrences: UnitSummary[]
  omitted: number
  weakest?: number
}

export type ResolvedOptions = Required<Omit<NPlusOneOptions, 'ignore'>> & { ignore: string[] }

/** Options left out take the config section's defaults (src/core/config-sections/nplusone.ts). */
export function resolveOptions(options: NPlusOneOptions = {}): ResolvedOptions {
  const defaults = nplusoneOptions()
  return {
    minRepeats: options.minRepeats ?? defaults.minRepeats!,
    minTotalMs: options.minTotalMs ?? defaults.minTotalMs!,
    idleGapMs: options.idleGapMs ?? defaults.idleGapMs!,
    showParams: options.showParams ?? false,
    unitTimeoutMs: options.unitTimeoutMs ?? UNIT_TIMEOUT_MS,
    maxOccurrences: options.maxOccurrences ?? defaults.maxOccurrences!,
    ignore: [...(options.ignore ?? [])],
  }
}

/**
 * The N+1 detector, fed one execution at a time so that a multi-gigabyte log streams through
 * it in constant memory. Pure: no I/O, no clock; time comes from the executions.
 *
 * Executions are grouped into units of work: the unit the source names (a request, a trace),
 * or else the statements of one session between transaction boundaries and idle gaps. Within
 * a unit it counts executions per fingerprint regardless of order, so repeats interleaved
 * with other statements, issued concurrently or inside a transaction all count. A unit is
 * judged when it closes; patterns are merged across units by fingerprint.
 */
export class NPlusOneDetector {
  readonly options: ResolvedOptions
  private readonly ignored: IgnoreMatcher
  private readonly open = new Map<string, OpenUnit>()
  private readonly patterns = new Map<string, PatternAccumulator>()
  private readonly fingerprints = new Set<string>()
  private watermark = -Infinity
  private sinceSweep = 0
  private executions = 0
  private lexical = 0
  private timed = false
  private closedUnits = 0
  private unitSerial = 0

  constructor(
    options: NPlusOneOptions = {},
    private readonly identifier: QueryIdentifier = new QueryIdentifier(),
  ) {
    this.options = resolveOptions(options)
    if (!(this.options.minRepeats >= 2)) throw new RangeError(`minRepeats must be at least 2, got ${this.options.minRepeats}`)
    if (!(Number.isInteger(this.options.maxOccurrences) && this.options.maxOccurrences >= 0))
      throw new RangeError(`maxOccurrences must be a whole number from 0, got ${this.options.maxOccurrences}`)
    this.ignored = compileIgnoreList(this.options.ignore)
  }

  add(execution: QueryExecution): void {
    if (execution.error !== undefined) return
    const identity = this.identifier.identify(execution.sql)
    this.executions++
    if (!identity.parsed) this.lexical++
    if (this.fingerprints.size < 1_000_000) this.fingerprints.add(identity.fingerprint)
    const { startMs, endMs, durationMs } = execution
    const start = startMs ?? (endMs !== undefined && durationMs !== undefined ? endMs - durationMs : endMs)
    const end = endMs ?? (start !== undefined && durationMs !== undefined ? start + durationMs : start)
    if (end !== undefined && end > this.watermark) this.watermark = end
    if (execution.durationMs !== undefined) this.timed = true

    const unit = this.unitFor(execution, identity, start)
    unit.executions++
    if (execution.pid !== undefined && unit.pid === undefined) unit.pid = execution.pid
    if (start !== undefined && unit.firstMs === undefined) unit.firstMs = start
    if (end !== undefined) unit.lastMs = unit.lastMs === undefined ? end : Math.max(unit.lastMs, end)

    if (isDataStatement(identity.kind)) this.count(unit, identity, execution)
    if (unit.session && (identity.kind === 'commit' || identity.kind === 'rollback')) this.close(unit)

    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep()
  }

  /** The session ended (a disconnection in the log): judge its open unit now. */
  endSession(session: string): void {
    const unit = this.open.get(`s:${session}`)
    if (unit) this.close(unit)
  }

  /** Closes every open unit and returns the report (the detector can keep going afterwards). */
  finish(): Pick<NPlusOneReport, 'patterns' | 'totals'> {
    for (const unit of [...this.open.values()]) this.close(unit)
    const patterns = [...this.patterns.values()].map((accumulator) => this.toPattern(accumulator))
    patterns.sort(
      (a, b) => (b.totalMs ?? 0) - (a.totalMs ?? 0) || b.executions - a.executions || a.fingerprint.localeCompare(b.fingerprint),
    )
    return {
      patterns,
      totals: {
        executions: this.executions,
        units: this.closedUnits,
        fingerprints: this.fingerprints.size,
        lexical: this.lexical,
        timed: this.timed,
      },
    }
  }

  private unitFor(execution: QueryExecution, identity: QueryIdentity, start: number | undefined): OpenUnit {
    if (execution.unit) {
      const key = `u:${execution.unit.kind}:${execution.unit.id}`
      let unit = this.open.get(key)
      if (!unit) unit = this.openUnit(key, execution.unit, false, execution.unit.label ?? execution.unit.kind)
      return unit
    }
    const session = execution.session ?? '(no session)'
    const key = `s:${session}`
    let unit = this.open.get(key)
    if (unit) {
      const idle = start !== undefined && unit.lastMs !== undefined && start - unit.lastMs > this.options.idleGapMs
      // On a pooled connection the next request usually starts with the same statement as the last one
      // did: its return (not straight after itself) starts a new unit, so once-per-request statements of
      // back-to-back requests are not mistaken for a loop.
      const restart =
        !unit.inTransaction &&
        unit.firstData === identity.fingerprint &&
        unit.lastData !== undefined &&
        unit.lastData.fingerprint !== identity.fingerprint
      if (identity.kind === 'begin' || (!unit.inTransaction && (idle || restart))) {
        this.close(unit)
        unit = undefined
      }
    }
    if (!unit) {
      const label = execution.origin ? `${execution.origin} session ${session}` : `session ${session}`
      // The id names the session and the unit's start (see occurrenceOf); the serial stands in for a start that is not known.
      unit = this.openUnit(key, { kind: 'session', id: `${session}#${++this.unitSerial}`, label }, true, execution.origin ?? 'sessions')
      unit.sessionName = session
    }
    if (identity.kind === 'begin') unit.inTransaction = true
    return unit
  }

  private openUnit(key: string, ref: UnitRef, session: boolean, where: string): OpenUnit {
    if (this.open.size >= MAX_OPEN_UNITS) {
      // The oldest units first (a Map iterates in insertion order).
      let toClose = Math.ceil(MAX_OPEN_UNITS / 10)
      for (const unit of this.open.values()) {
        if (toClose-- <= 0) break
        this.close(unit)
      }
    }
    const unit: OpenUnit = { key, ref, entries: new Map(), inTransaction: false, session, where, executions: 0 }
    this.open.set(key, unit)
    return unit
  }

  private count(unit: OpenUnit, identity: QueryIdentity, execution: QueryExecution): void {
    let entry = unit.entries.get(identity.fingerprint)
    if (!entry) {
      if (unit.entries.size >= MAX_FINGERPRINTS_PER_UNIT) return
      entry = { identity, count: 0, timed: 0, totalMs: 0 }
      if (unit.lastData && unit.lastData.fingerprint !== identity.fingerprint) entry.producer = unit.lastData
      unit.entries.set(identity.fingerprint, entry)
    }
    entry.count++
    if (execution.durationMs !== undefined) {
      entry.timed++
      entry.totalMs += execution.durationMs
    }
    if (execution.callSite) {
      entry.callSites ??= new Map()
      if (entry.callSites.size < 16 || entry.callSites.has(execution.callSite)) {
        entry.callSites.set(execution.callSite, (entry.callSites.get(execution.callSite) ?? 0) + 1)
      }
    }
    if (this.options.showParams && (entry.samples?.length ?? 0) < MAX_SAMPLES) {
      entry.samples ??= []
      entry.samples.push((execution.params ? [...execution.params] : literalValues(execution.sql)).map(detach))
    }
    unit.lastData = identity
    unit.firstData ??= identity.fingerprint
  }

  private sweep(): void {
    this.sinceSweep = 0
    if (this.watermark === -Infinity) return
    for (const unit of this.open.values()) {
      if (unit.lastMs === undefined) continue
      const timeout = unit.session && !unit.inTransaction ? this.options.idleGapMs : this.options.unitTimeoutMs
      if (this.watermark - unit.lastMs > timeout) this.close(unit)
    }
  }

  private close(unit: OpenUnit): void {
    if (this.open.get(unit.key) === unit) this.open.delete(unit.key)
    if (unit.executions === 0) return
    this.closedUnits++
    for (const entry of unit.entries.values()) {
      if (entry.count < this.options.minRepeats) continue
      if (entry.timed > 0 && entry.totalMs < this.options.minTotalMs) continue
      if (this.ignored(entry.identity)) continue
      this.record(unit, entry)
    }
  }

  private record(unit: OpenUnit, entry: UnitEntry): void {
    const fingerprint = entry.identity.fingerprint
    let pattern = this.patterns.get(fingerprint)
    const summary = occurrenceOf(unit, entry)
    if (!pattern) {
      pattern = {
        identity: entry.identity,
        units: 0,
        executions: 0,
        maxPerUnit: 0,
        timed: 0,
        totalMs: 0,
        worst: summary,
        where: new Map(),
        producers: new Map(),
        callSites: new Map(),
        samples: [],
        occurrences: [],
        omitted: 0,
      }
      this.patterns.set(fingerprint, pattern)
    }
    pattern.units++
    pattern.executions += entry.count
    pattern.timed += entry.timed
    pattern.totalMs += entry.totalMs
    if (stronger(summary, pattern.worst)) pattern.worst = summary
    pattern.maxPerUnit = Math.max(pattern.maxPerUnit, entry.count)
    this.keepOccurrence(pattern, summary)
    bump(pattern.where, unit.where, 1, 64)
    if (entry.producer) {
      const known = pattern.producers.get(entry.producer.fingerprint)
      if (known) known.units++
      else if (pattern.producers.size < 16) pattern.producers.set(entry.producer.fingerprint, { identity: entry.producer, units: 1 })
    }
    for (const [site, count] of entry.callSites ?? []) bump(pattern.callSites, site, count, 16)
    for (const sample of entry.samples ?? []) if (pattern.samples.length < MAX_SAMPLES) pattern.samples.push(sample)
  }

  /** Every occurrence up to maxOccurrences; beyond, one with more repeats takes the place of the weakest kept. */
  private keepOccurrence(pattern: PatternAccumulator, occurrence: UnitSummary): void {
    const kept = pattern.occurrences
    if (kept.length < this.options.maxOccurrences) {
      kept.push(occurrence)
      return
    }
    pattern.omitted++
    if (kept.length === 0) return
    pattern.weakest ??= weakestOf(kept)
    if (!stronger(occurrence, kept[pattern.weakest]!)) return
    kept[pattern.weakest] = occurrence
    pattern.weakest = weakestOf(kept)
  }

  private toPattern(accumulator: PatternAccumulator): NPlusOnePattern {
    const { identity } = accumulator
    const producer = [...accumulator.producers.values()].sort((a, b) => b.units - a.units)[0]?.identity
    const callSite = mostFrequent(accumulator.callSites)
    return {
      fingerprint: identity.fingerprint,
      sql: identity.sql,
      parsed: identity.parsed,
      kind: identity.kind,
      units: accumulator.units,
      executions: accumulator.executions,
      maxPerUnit: accumulator.maxPerUnit,
      ...(accumulator.timed > 0 ? { totalMs: round(accumulator.totalMs), meanMs: round(accumulator.totalMs / accumulator.timed) } : {}),
      worstUnit: accumulator.worst,
      occurrences: [...accumulator.occurrences].sort(inTimeOrder),
      occurrencesOmitted: accumulator.omitted,
      where: [...accumulator.where.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([label, units]) => ({ label, units })),
      ...(producer ? { producer: { fingerprint: producer.fingerprint, sql: producer.sql } } : {}),
      ...(callSite ? { callSite } : {}),
      fix: suggestFix(identity, producer),
      ...(this.options.showParams ? { samples: accumulator.samples } : {}),
    }
  }
}

/** The detector over a finished list of executions. The PostgreSQL parser must be loaded (loadQueryParser). */
export function detectNPlusOne(executions: Iterable<QueryExecution>, options: NPlusOneOptions = {}): NPlusOnePattern[] {
  const detector = new NPlusOneDetector(options)
  for (const execution of executions) detector.add(execution)
  return detector.finish().patterns
}

/** A unit as reported: its id (a session's names the session and the unit's start), time span, count and call site. */
function occurrenceOf(unit: OpenUnit, entry: UnitEntry): UnitSummary {
  const ref = unit.ref
  const startedAt = unit.firstMs !== undefined ? new Date(unit.firstMs).toISOString() : undefined
  const id = unit.session && startedAt !== undefined ? `${unit.sessionName}@${startedAt}` : ref.id
  const callSite = entry.callSites ? mostFrequent(entry.callSites) : undefined
  return {
    kind: ref.kind,
    id,
    ...(ref.label ? { label: ref.label } : {}),
    ...(ref.traceId ? { traceId: ref.traceId } : {}),
    ...(ref.spanId ? { spanId: ref.spanId } : {}),
    ...(unit.sessionName !== undefined ? { session: unit.sessionName } : {}),
    ...(unit.pid !== undefined ? { pid: unit.pid } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(unit.lastMs !== undefined ? { endedAt: new Date(unit.lastMs).toISOString() } : {}),
    count: entry.count,
    ...(entry.timed > 0 ? { totalMs: round(entry.totalMs) } : {}),
    ...(callSite ? { callSite } : {}),
  }
}

/** More repeats, or as many in more time. */
function stronger(a: UnitSummary, b: UnitSummary): boolean {
  return a.count > b.count || (a.count === b.count && (a.totalMs ?? 0) > (b.totalMs ?? 0))
}

/** The kept occurrence that a stronger one replaces: the weakest, the latest of equals. */
function weakestOf(kept: readonly UnitSummary[]): number {
  let weakest = 0
  for (let i = 1; i < kept.length; i++) if (!stronger(kept[i]!, kept[weakest]!)) weakest = i
  return weakest
}

/** By start time; units without one after those with one, in the order they closed (the sort is stable). */
function inTimeOrder(a: UnitSummary, b: UnitSummary): number {
  if (a.startedAt === undefined || b.startedAt === undefined)
    return (a.startedAt === undefined ? 1 : 0) - (b.startedAt === undefined ? 1 : 0)
  return a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function bump(map: Map<string, number>, key: string, by: number, limit: number): void {
  const current = map.get(key)
  if (current !== undefined) map.set(key, current + by)
  else if (map.size < limit) map.set(key, by)
}

function mostFrequent(map: Map<string, number>): string | undefined {
  let best: string | undefined
  let bestCount = -1
  for (const [key, count] of map) {
    if (count > bestCount) {
      best = key
      bestCount = count
    }
  }
  return best
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
