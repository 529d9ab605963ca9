/**
 * The result of `opsctl load`: a plain, serialisable object. It is what `--json` prints, what
 * `--out` writes and `--baseline` reads back, and its `summary` is compact enough for the
 * journal's `load.run` event.
 */
import type { Comparison } from './compare.js'
import type { ThresholdOutcome } from './thresholds.js'

export const RESULT_KIND = 'opsctl.load.result'
export const RESULT_VERSION = 1

export interface LatencyStats {
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
  max: number
  min: number
  mean: number
  stdev: number
}

export interface SecondStats {
  /** Seconds since the end of the warm-up. */
  second: number
  requests: number
  failed: number
  rps: number
  /** Milliseconds; null for a second without a completed request. */
  p50: number | null
  p99: number | null
  max: number | null
  /** Open model: what the schedule asked for in this second. */
  targetRps?: number
  /** The last second, when the run did not end on a whole second: not used for comparisons. */
  partial?: true
}

export interface GeneratorStats {
  /** Threads generating load (1 without worker threads). */
  threads: number
  workers: number
  /** The busiest generating thread's event-loop utilization over the run, 0-1. */
  eventLoopUtilization: number
  /** CPU time of the whole process over wall time, in cores. */
  cpuCores: number
  cores: number
  saturated: boolean
}

export interface RunStats {
  startedAt: string
  finishedAt: string
  /** Time the statistics cover: after the warm-up, until the end of the run. */
  measuredMs: number
  requests: {
    total: number
    ok: number
    /** Everything that was not ok: errors, timeouts, unexpected statuses and failed body checks. */
    failed: number
    errors: number
    timeouts: number
    unexpectedStatus: number
    checkFailed: number
    /** Sent during the warm-up, excluded from everything else. */
    warmup: number
    /** Open model: requests the schedule asked for that were never sent. */
    dropped: number
    /** Still waiting for an answer when the run was stopped. */
    unfinished: number
  }
  statusCodes: Record<string, number>
  errorCodes: Record<string, number>
  checkFailures: Record<string, number>
  bytesReceived: number
  rps: number
  errorRate: number
  latency: LatencyStats
  /** Open model: the rate asked for and the rate achieved (by send time), per second. */
  rate?: { target: number; achieved: number; shortfall: number }
  perRequest: Array<{ name: string; requests: number; failed: number; p50: number; p99: number }>
  series: SecondStats[]
  /** HDR histogram of latencies in microseconds (compressed, base64), for merging runs. */
  histogram: string
  generator: GeneratorStats
  /** The run was interrupted (Ctrl-C); its numbers cover what ran. */
  interrupted?: true
}

export interface Validity {
  valid: boolean
  /** Why the measurement cannot be trusted, each with what to do. */
  reasons: Array<{ code: 'generator-saturated' | 'rate-shortfall' | 'no-samples' | 'interrupted'; message: string; hint: string }>
}

export interface LoadSummary {
  name: string
  target: string
  model: 'open' | 'closed'
  targetRate?: number
  connections: number
  runs: number
  requests: number
  rps: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  errorRate: number
  valid: boolean
  thresholds: { passed: number; failed: number }
  verdict?: Comparison['verdict']
  outcome: 'passed' | 'failed' | 'invalid'
}

export interface LoadResult {
  kind: typeof RESULT_KIND
  version: typeof RESULT_VERSION
  name: string
  target: string
  model: 'open' | 'closed'
  connections: number
  /** Open model: the arrival schedule (requests per second). */
  arrival?: { startRate: number; stages: Array<{ durationMs: number; target: number }> }
  durationMs?: number
  requestCount?: number
  warmupMs: number
  latencyCorrected: boolean
  startedAt: string
  finishedAt: string
  /** All runs together: histograms merged, counts added. */
  aggregate: Omit<RunStats, 'series' | 'histogram' | 'startedAt' | 'finishedAt' | 'generator'> & { histogram: string }
  runs: RunStats[]
  thresholds: ThresholdOutcome[]
  validity: Validity
  comparison?: Comparison
  summary: LoadSummary
}
