/**
 * Turns sample batches into statistics: an HDR histogram of the latencies (microseconds,
 * 3 significant digits), counts by status and outcome, and a per-second series. Only requests
 * that started after the warm-up count. No I/O: the runner feeds it and reads it.
 */
import * as hdr from 'hdr-histogram-js'
import { Outcome, type AgentReport, type SampleBatch } from './agent.js'
import { arrivalsBy } from './arrival.js'
import type { LoadPlan } from './plan.js'
import type { GeneratorStats, LatencyStats, RunStats, SecondStats } from './result.js'

type Histogram = ReturnType<typeof hdr.build>

interface Bucket {
  requests: number
  failed: number
  histogram: Histogram
}

export interface LiveStats {
  elapsedMs: number
  /** Completed in the last second. */
  rps: number
  /** p99 of the last second, ms. */
  p99: number | undefined
  requests: number
  failed: number
}

/** Microseconds to 3 significant digits; the per-second ones to 2 digits (1%), which keeps them small. */
export function newHistogram(digits: 2 | 3 = 3): Histogram {
  return hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: digits, lowestDiscernibleValue: 1 })
}

const toMicros = (ms: number) => Math.max(1, Math.round(ms * 1000))
const toMs = (micros: number) => micros / 1000

export function latencyStats(histogram: Histogram): LatencyStats {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0, min: 0, mean: 0, stdev: 0 }
  // HDR answers a percentile with the top of its bucket, which can lie above the largest value seen
  const max = histogram.maxValue
  const at = (percentile: number) => toMs(Math.min(histogram.getValueAtPercentile(percentile), max))
  return {
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: toMs(histogram.maxValue),
    min: toMs(histogram.minNonZeroValue),
    mean: toMs(histogram.mean),
    stdev: toMs(histogram.stdDeviation),
  }
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram)
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false) as Histogram
}

export class Recorder {
  private readonly histogram = newHistogram()
  private readonly seconds: Bucket[] = []
  private readonly specs: Array<{ requests: number; failed: number; histogram: Histogram }>
  private readonly statusCodes: Record<string, number> = {}
  private readonly errorCodes: Record<string, number> = {}
  private readonly checkFailures: Record<string, number> = {}
  private readonly counts = { total: 0, ok: 0, failed: 0, errors: 0, timeouts: 0, unexpectedStatus: 0, checkFailed: 0, warmup: 0 }
  private bytes = 0
  private lastEnd = 0
  private firstStart = Number.POSITIVE_INFINITY
  private firstSend = Number.POSITIVE_INFINITY
  private lastSend = Number.NEGATIVE_INFINITY
  /** Batches of the last second or so, for the progress line (kept only when it is wanted). */
  private recent: Array<{ at: number; latencies: Float64Array }> = []
  private readonly endMs: number

  constructor(
    private readonly plan: LoadPlan,
    private readonly clock?: () => number,
  ) {
    this.specs = plan.specs.map(() => ({ requests: 0, failed: 0, histogram: newHistogram() }))
    this.endMs = plan.durationMs === undefined ? Number.POSITIVE_INFINITY : plan.warmupMs + plan.durationMs
  }

  ingest(batch: SampleBatch): void {
    const warmup = this.plan.warmupMs
    for (const [code, count] of Object.entries(batch.errorCodes)) tally(this.errorCodes, code, count)
    for (const [reason, count] of Object.entries(batch.checkFailures)) tally(this.checkFailures, reason, count)
    if (this.clock && batch.count > 0) this.recent.push({ at: this.clock(), latencies: batch.latencies.slice(0, batch.count) })
    for (let i = 0; i < batch.count; i++) {
      const start = batch.starts[i]!
      const latency = batch.latencies[i]!
      const end = start + latency
      if (start < warmup || start >= this.endMs) {
        this.counts.warmup++
        continue
      }
      const outcome = batch.outcomes[i]!
      const status = batch.statuses[i]!
      const failed = outcome !== Outcome.Ok
      this.counts.total++
      if (failed) this.counts.failed++
      else this.counts.ok++
      if (outcome === Outcome.Error) this.counts.errors++
      else if (outcome === Outcome.Timeout) this.counts.timeouts++
      else if (outcome === Outcome.UnexpectedStatus) this.counts.unexpectedStatus++
      else if (outcome === Outcome.CheckFailed) this.counts.checkFailed++
      if (status > 0) this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1
      this.bytes += batch.bytes[i]!
      if (end > this.lastEnd) this.lastEnd = end
      if (start < this.firstStart) this.firstStart = start
      const sent = batch.sends[i]!
      if (sent < this.firstSend) this.firstSend = sent
      if (sent > this.lastSend) this.lastSend = sent
      const micros = toMicros(latency)
      this.histogram.recordValue(micros)
      const spec = this.specs[batch.specs[i]!]
      if (spec) {
        spec.requests++
        if (failed) spec.failed++
        // with one request the overall histogram is its histogram
        if (this.specs.length > 1) spec.histogram.recordValue(micros)
      }
      const second = Math.floor((start - warmup) / 1000)
      let bucket = this.seconds[second]
      if (!bucket) bucket = this.seconds[second] = { requests: 0, failed: 0, histogram: newHistogram(2) }
      bucket.requests++
      if (failed) bucket.failed++
      bucket.histogram.recordValue(micros)
    }
  }

  /**
   * For the progress line: what arrived in the last second, at `elapsedMs` since the run start.
   * Needs the clock given to the constructor (the runner gives it only when there is a progress line).
   */
  live(elapsedMs: number): LiveStats {
    const now = this.clock?.() ?? 0
    this.recent = this.recent.filter((batch) => batch.at > now - 1000)
    const latencies = new Float64Array(this.recent.reduce((total, batch) => total + batch.latencies.length, 0))
    let offset = 0
    for (const batch of this.recent) {
      latencies.set(batch.latencies, offset)
      offset += batch.latencies.length
    }
    latencies.sort()
    return {
      elapsedMs,
      rps: latencies.length,
      p99: latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] : undefined,
      requests: this.counts.total + this.counts.warmup,
      failed: this.counts.failed,
    }
  }

  finish(context: {
    startedAt: Date
    finishedAt: Date
    reports: AgentReport[]
    process: { cpuCores: number; eventLoopUtilization: number; cores: number }
    interrupted: boolean
  }): RunStats {
    const plan = this.plan
    const count = this.counts.total
    const measuredMs =
      plan.durationMs !== undefined && !context.interrupted
        ? plan.durationMs
        : Math.max(1, (Number.isFinite(this.firstStart) ? this.lastEnd - Math.min(plan.warmupMs, this.firstStart) : 0) || 1)
    const rps = (count / measuredMs) * 1000
    const unfinished = context.reports.reduce((total, report) => total + report.unfinished, 0)

    let rate: RunStats['rate']
    let dropped = 0
    if (plan.model === 'open' && plan.arrival) {
      const arrival = plan.arrival
      if (plan.durationMs !== undefined) {
        const windowEnd = context.interrupted ? plan.warmupMs + measuredMs : plan.warmupMs + plan.durationMs
        const targetCount = Math.ceil(arrivalsBy(arrival, windowEnd) - 1e-9) - Math.ceil(arrivalsBy(arrival, plan.warmupMs) - 1e-9)
        const sent = count + unfinished
        dropped = Math.max(0, targetCount - sent)
        const seconds = (windowEnd - plan.warmupMs) / 1000
        const target = targetCount / seconds
        const achieved = Math.min(sent, targetCount) / seconds
        rate = { target, achieved, shortfall: target > 0 ? 1 - achieved / target : 0 }
      } else if (count > 1) {
        const target = arrival.startRate
        // n requests at rate r take (n - 1) / r from the first send to the last
        const spanMs = this.lastSend - this.firstSend
        const achieved = spanMs > 0 ? ((count - 1) / spanMs) * 1000 : target
        rate = { target, achieved: Math.min(achieved, target), shortfall: target > 0 ? Math.max(0, 1 - achieved / target) : 0 }
      }
    }

    const series: SecondStats[] = []
    const fullSeconds = Math.floor(measuredMs / 1000)
    const lastSecond = Math.max(this.seconds.length, Math.ceil(measuredMs / 1000))
    for (let second = 0; second < lastSecond; second++) {
      const bucket = this.seconds[second]
      const partial = second >= fullSeconds
      const span = partial ? Math.max(0.001, (measuredMs - second * 1000) / 1000) : 1
      const entry: SecondStats = {
        second,
        requests: bucket?.requests ?? 0,
        failed: bucket?.failed ?? 0,
        rps: (bucket?.requests ?? 0) / span,
        p50: bucket ? toMs(Math.min(bucket.histogram.getValueAtPercentile(50), bucket.histogram.maxValue)) : null,
        p99: bucket ? toMs(Math.min(bucket.histogram.getValueAtPercentile(99), bucket.histogram.maxValue)) : null,
        max: bucket ? toMs(bucket.histogram.maxValue) : null,
      }
      if (plan.model === 'open' && plan.arrival && plan.durationMs !== undefined) {
        const from = plan.warmupMs + second * 1000
        entry.targetRps = (arrivalsBy(plan.arrival, from + span * 1000) - arrivalsBy(plan.arrival, from)) / span
      }
      if (partial) entry.partial = true
      series.push(entry)
    }

    const threads = Math.max(1, context.reports.length)
    // with worker threads the main thread only collects samples: the workers' loops are the ones that send
    const utilizations =
      plan.workers > 0 ? context.reports.map((report) => report.eventLoopUtilization) : [context.process.eventLoopUtilization]
    const eventLoopUtilization = Math.max(0, ...utilizations)
    const busyThreads = plan.workers > 0 ? threads + 1 : 1
    const generator: GeneratorStats = {
      threads,
      workers: plan.workers,
      eventLoopUtilization,
      cpuCores: context.process.cpuCores,
      cores: context.process.cores,
      saturated: isSaturated(eventLoopUtilization, context.process.cpuCores, busyThreads, context.process.cores),
    }

    return {
      startedAt: context.startedAt.toISOString(),
      finishedAt: context.finishedAt.toISOString(),
      measuredMs,
      requests: { ...this.counts, dropped, unfinished },
      statusCodes: { ...this.statusCodes },
      errorCodes: { ...this.errorCodes },
      checkFailures: { ...this.checkFailures },
      bytesReceived: this.bytes,
      rps,
      errorRate: count > 0 ? this.counts.failed / count : 0,
      latency: latencyStats(this.histogram),
      ...(rate ? { rate } : {}),
      perRequest: plan.specs.map((spec, i) => {
        const stats = this.specs[i]!
        const latency = latencyStats(this.specs.length > 1 ? stats.histogram : this.histogram)
        return { name: spec.name, requests: stats.requests, failed: stats.failed, p50: latency.p50, p99: latency.p99 }
      }),
      series,
      histogram: encodeHistogram(this.histogram),
      generator,
      ...(context.interrupted ? { interrupted: true as const } : {}),
    }
  }
}

/** Distinct reasons kept by name; the rest are counted together, so a tally cannot grow without bound. */
export const MAX_REASONS = 50

function tally(counts: Record<string, number>, key: string, count: number): void {
  const name = key in counts || Object.keys(counts).length < MAX_REASONS ? key : '(other reasons)'
  counts[name] = (counts[name] ?? 0) + count
}

/** Event-loop utilization at or above this means the generator, not the server, set the pace. */
export const SATURATION_UTILIZATION = 0.9

/**
 * The generator is saturated when a generating thread's event loop was busy nearly all the
 * time, or the process used nearly all the CPU its busy threads (or the machine) could give it.
 */
export function isSaturated(eventLoopUtilization: number, cpuCores: number, threads: number, cores: number): boolean {
  return eventLoopUtilization >= SATURATION_UTILIZATION || cpuCores >= SATURATION_UTILIZATION * Math.min(threads, cores)
}
