import { compileIgnoreList, type IgnoreMatcher } from './ignore.js'
import { QueryIdentifier, isDataStatement, type QueryIdentity } from './identity.js'
import { detach, literalValues } from './lexical.js'
import { suggestFix } from './fix.js'
import type { NPlusOneOptions, NPlusOnePattern, NPlusOneReport, QueryExecution, UnitRef, UnitSummary } from './types.js'

export const DEFAULT_OPTIONS = {
  minRepeats: 5,
  minTotalMs: 0,
  idleGapMs: 50,
  showParams: false,
  unitTimeoutMs: 60_000,
} as const

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
}

export type ResolvedOptions = Required<Omit<NPlusOneOptions, 'ignore'>> & { ignore: string[] }

export function resolveOptions(options: NPlusOneOptions = {}): ResolvedOptions {
  return {
    minRepeats: options.minRepeats ?? DEFAULT_OPTIONS.minRepeats,
    minTotalMs: options.minTotalMs ?? DEFAULT_OPTIONS.minTotalMs,
    idleGapMs: options.idleGapMs ?? DEFAULT_OPTIONS.idleGapMs,
    showParams: options.showParams ?? DEFAULT_OPTIONS.showParams,
    unitTimeoutMs: options.unitTimeoutMs ?? DEFAULT_OPTIONS.unitTimeoutMs,
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
    patterns.sort((a, b) => (b.totalMs ?? 0) - (a.totalMs ?? 0) || b.executions - a.executions || a.fingerprint.localeCompare(b.fingerprint))
    return {
      patterns,
      totals: { executions: this.executions, units: this.closedUnits, fingerprints: this.fingerprints.size, lexical: this.lexical, timed: this.timed },
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
        !unit.inTransaction && unit.firstData === identity.fingerprint && unit.lastData !== undefined && unit.lastData.fingerprint !== identity.fingerprint
      if (identity.kind === 'begin' || (!unit.inTransaction && (idle || restart))) {
        this.close(unit)
        unit = undefined
      }
    }
    if (!unit) {
      const label = execution.origin ? `${execution.origin} session ${session}` : `session ${session}`
      unit = this.openUnit(key, { kind: 'session', id: `${session}#${++this.unitSerial}`, label }, true, execution.origin ?? 'sessions')
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
    const summary: UnitSummary = {
      kind: unit.ref.kind,
      id: unit.ref.id,
      ...(unit.ref.label ? { label: unit.ref.label } : {}),
      ...(unit.ref.traceId ? { traceId: unit.ref.traceId } : {}),
      ...(unit.firstMs !== undefined ? { startedAt: new Date(unit.firstMs).toISOString() } : {}),
      count: entry.count,
      ...(entry.timed > 0 ? { totalMs: round(entry.totalMs) } : {}),
    }
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
      }
      this.patterns.set(fingerprint, pattern)
    }
    pattern.units++
    pattern.executions += entry.count
    pattern.timed += entry.timed
    pattern.totalMs += entry.totalMs
    if (entry.count > pattern.maxPerUnit || (entry.count === pattern.maxPerUnit && (summary.totalMs ?? 0) > (pattern.worst.totalMs ?? 0))) {
      pattern.worst = summary
    }
    pattern.maxPerUnit = Math.max(pattern.maxPerUnit, entry.count)
    bump(pattern.where, unit.where, 1, 64)
    if (entry.producer) {
      const known = pattern.producers.get(entry.producer.fingerprint)
      if (known) known.units++
      else if (pattern.producers.size < 16) pattern.producers.set(entry.producer.fingerprint, { identity: entry.producer, units: 1 })
    }
    for (const [site, count] of entry.callSites ?? []) bump(pattern.callSites, site, count, 16)
    for (const sample of entry.samples ?? []) if (pattern.samples.length < MAX_SAMPLES) pattern.samples.push(sample)
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
      ...(accumulator.timed > 0
        ? { totalMs: round(accumulator.totalMs), meanMs: round(accumulator.totalMs / accumulator.timed) }
        : {}),
      worstUnit: accumulator.worst,
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
