/**
 * Per-backend counters of the built-in router: requests, outcomes by class, in-flight, an HDR
 * latency histogram (percentiles since start), Prometheus histogram buckets, and the windowed
 * samples for the canary judge. One `finish` call per request, no allocation on it.
 */
import { build, type Histogram } from 'hdr-histogram-js'
import { CONNECTION_OUTCOME, OUTCOME_CLASSES, type LatencySummary, type OutcomeCounts } from './control.js'
import { SampleStore, type SampleStoreOptions } from './samples.js'

/** Upper bounds (seconds) of the Prometheus latency buckets: 1 ms to 10 s. */
export const PROMETHEUS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const
const BUCKET_MS = PROMETHEUS_BUCKETS.map((seconds) => seconds * 1000)

export class BackendMetrics {
  requests = 0
  inFlight = 0
  retried = 0
  readonly outcomes = new Float64Array(5)
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly buckets = new Float64Array(PROMETHEUS_BUCKETS.length + 1)
  latencySumMs = 0
  readonly histogram: Histogram
  readonly samples: SampleStore

  constructor(sampleOptions: SampleStoreOptions) {
    // Microseconds, 3 significant digits, up to an hour; grows if something takes longer.
    this.histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
    this.samples = new SampleStore(sampleOptions)
  }

  started(): void {
    this.requests++
    this.inFlight++
  }

  /** A request ended: its outcome index (0–4) and, when answered, its latency. */
  finish(nowMs: number, latencyMs: number, outcome: number): void {
    this.inFlight--
    this.outcomes[outcome]!++
    this.samples.record(nowMs, latencyMs, outcome)
    if (outcome === CONNECTION_OUTCOME) return
    this.latencySumMs += latencyMs
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)))
    let bucket = 0
    while (bucket < BUCKET_MS.length && latencyMs > BUCKET_MS[bucket]!) bucket++
    this.buckets[bucket]!++
  }

  /** The client left before the answer was complete: not the backend's doing, so no outcome. */
  abandoned(): void {
    this.inFlight--
  }

  /** A request it refused before any answer was moved to another backend. */
  retriedElsewhere(nowMs: number): void {
    this.inFlight--
    this.retried++
    this.outcomes[CONNECTION_OUTCOME]!++
    this.samples.record(nowMs, 0, CONNECTION_OUTCOME)
  }

  outcomeCounts(): OutcomeCounts {
    return Object.fromEntries(OUTCOME_CLASSES.map((name, index) => [name, this.outcomes[index]!])) as OutcomeCounts
  }

  latency(): LatencySummary {
    const count = this.histogram.totalCount
    if (count === 0) return { source: 'histogram', count: 0 }
    const ms = (micros: number) => Math.round(micros) / 1000
    return {
      source: 'histogram',
      count,
      mean: Math.round((this.latencySumMs / count) * 1000) / 1000,
      p50: ms(this.histogram.getValueAtPercentile(50)),
      p90: ms(this.histogram.getValueAtPercentile(90)),
      p99: ms(this.histogram.getValueAtPercentile(99)),
      max: ms(this.histogram.maxValue),
    }
  }
}

export interface PrometheusBackend {
  pool: string
  backend: string
  up: boolean
  weight: number
  state: string
  metrics: BackendMetrics
}

/** The Prometheus text exposition (version 0.0.4) of every backend. */
export function prometheusText(backends: readonly PrometheusBackend[]): string {
  const lines: string[] = []
  const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
  const labels = (entry: PrometheusBackend, extra = '') => `pool="${label(entry.pool)}",backend="${label(entry.backend)}"${extra}`
  const family = (name: string, type: string, help: string, value: (entry: PrometheusBackend) => string[]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const entry of backends) lines.push(...value(entry))
  }
  family('opsctl_router_requests_total', 'counter', 'Requests sent to the backend, by outcome class.', (entry) =>
    OUTCOME_CLASSES.map(
      (name, index) => `opsctl_router_requests_total{${labels(entry, `,class="${name}"`)}} ${entry.metrics.outcomes[index]}`,
    ),
  )
  family('opsctl_router_in_flight', 'gauge', 'Requests in flight to the backend.', (entry) => [
    `opsctl_router_in_flight{${labels(entry)}} ${entry.metrics.inFlight}`,
  ])
  family('opsctl_router_retried_total', 'counter', 'Requests the backend refused before answering, moved to another backend.', (entry) => [
    `opsctl_router_retried_total{${labels(entry)}} ${entry.metrics.retried}`,
  ])
  family('opsctl_router_backend_up', 'gauge', 'Health of the backend (1 up, 0 down).', (entry) => [
    `opsctl_router_backend_up{${labels(entry)}} ${entry.up ? 1 : 0}`,
  ])
  family('opsctl_router_backend_weight', 'gauge', "The backend's share of its pool, percent.", (entry) => [
    `opsctl_router_backend_weight{${labels(entry)}} ${entry.weight}`,
  ])
  family('opsctl_router_backend_ready', 'gauge', 'Admin state ready (1), or drain/maint (0, with the state as a label).', (entry) => [
    `opsctl_router_backend_ready{${labels(entry, `,state="${label(entry.state)}"`)}} ${entry.state === 'ready' ? 1 : 0}`,
  ])
  family('opsctl_router_request_duration_seconds', 'histogram', 'Latency of answered requests, until the last byte.', (entry) => {
    const out: string[] = []
    let cumulative = 0
    PROMETHEUS_BUCKETS.forEach((bound, index) => {
      cumulative += entry.metrics.buckets[index]!
      out.push(`opsctl_router_request_duration_seconds_bucket{${labels(entry, `,le="${bound}"`)}} ${cumulative}`)
    })
    cumulative += entry.metrics.buckets[PROMETHEUS_BUCKETS.length]!
    out.push(`opsctl_router_request_duration_seconds_bucket{${labels(entry, ',le="+Inf"')}} ${cumulative}`)
    out.push(`opsctl_router_request_duration_seconds_sum{${labels(entry)}} ${entry.metrics.latencySumMs / 1000}`)
    out.push(`opsctl_router_request_duration_seconds_count{${labels(entry)}} ${cumulative}`)
    return out
  })
  return `${lines.join('\n')}\n`
}
