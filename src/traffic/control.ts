/**
 * The one face of traffic control. A rollout (canary, blue/green, strangler fig) needs three
 * things from whatever carries the traffic: send a chosen share to a chosen backend, see what each
 * backend does with it, and take a backend out without dropping a request. The built-in router
 * (through its admin API, `routerClient`) and HAProxy (through its runtime API, `haproxyTraffic`)
 * both implement `TrafficControl`, so the deploy module drives either without knowing which.
 *
 * Vocabulary: a *pool* is a set of interchangeable backends that share traffic by weight (an
 * HAProxy `backend`); a *backend* is one server in a pool (an HAProxy `server`). Weights are whole
 * percentages of the pool's traffic and sum to 100 within a pool.
 */

/** The operator's wish for a backend, apart from its health: take traffic, finish what it has, or be out. */
export type AdminState = 'ready' | 'drain' | 'maint'

/** What happened to a request, by class: status classes, or no response at all (refused, reset, timed out). */
export type OutcomeClass = '2xx' | '3xx' | '4xx' | '5xx' | 'connection'

export const OUTCOME_CLASSES: readonly OutcomeClass[] = ['2xx', '3xx', '4xx', '5xx', 'connection']

export type OutcomeCounts = Record<OutcomeClass, number>

export interface BackendHealth {
  /** Taking traffic as far as checks tell (an engine without checks reports up). */
  up: boolean
  /** Why it is down, or what the last check said. */
  reason?: string | undefined
  /** ISO time of the last change between up and down, when known. */
  since?: string | undefined
}

/** Latency summary in milliseconds. Fields an engine cannot give are absent, with `source` saying what there is. */
export interface LatencySummary {
  /** `histogram`: percentiles from every request (built-in router, HDR histogram since start). `haproxy-average`: HAProxy's averages over its last 1024 requests. */
  source: 'histogram' | 'haproxy-average'
  count?: number
  mean?: number
  p50?: number
  p90?: number
  p99?: number
  max?: number
}

export interface BackendStats {
  pool: string
  backend: string
  /** Where it sends requests (built-in router) or its address (HAProxy). */
  address: string
  weight: number
  state: AdminState
  health: BackendHealth
  /** Requests sent to it since the engine started (or its counters were cleared). */
  requests: number
  /** Outcomes of those requests. `connection`: no response (refused, reset, timeout). */
  outcomes: OutcomeCounts
  inFlight: number
  latency: LatencySummary
  /** Requests moved to another backend after this one refused them before any answer (built-in router only). */
  retried?: number
}

/** One backend's traffic over a window. */
export interface BackendWindow {
  pool: string
  backend: string
  requests: number
  outcomes: OutcomeCounts
  /**
   * Raw latencies (ms) of answered requests in the window, for rank tests (Mann–Whitney). A
   * uniform random sample when the window held more than the engine keeps (`sampled: true`).
   * Absent when the engine has none: then `unavailable` says why, and counters are what there is.
   */
  latencyMs?: number[]
  /** latencyMs is a uniform sample of `answered` latencies rather than all of them. */
  sampled?: boolean
  /** Answered requests (everything but `connection`) in the window: what latencyMs samples. */
  answered: number
  /** Why there are no raw samples (HAProxy: `show stat` has counters and averages only). */
  unavailable?: string
  /** HAProxy: latency summary for want of samples. */
  latency?: LatencySummary
}

export interface SampleWindow {
  /** ISO times the counts actually cover (a window snaps to the engine's bookkeeping epochs). */
  from: string
  to: string
  /** False when part of the asked window is older than what the engine keeps. */
  complete: boolean
  backends: BackendWindow[]
}

export interface SampleRequest {
  /** Start of the window, ISO time or epoch milliseconds. */
  since?: string | number
  /** Or: the last this many milliseconds. */
  windowMs?: number
  /** At most this many latency samples per backend (a uniform subsample beyond it). Default 10000. */
  maxSamples?: number
}

export interface PoolView {
  name: string
  backends: Array<{ name: string; address: string; weight: number; state: AdminState; health: BackendHealth; inFlight: number }>
}

export interface TrafficSnapshot {
  engine: 'builtin' | 'haproxy'
  pools: PoolView[]
  /** Path prefixes and the pool each goes to (built-in router; HAProxy's routing lives in its own config). */
  routes: Array<{ prefix: string; pool: string }>
}

export interface DrainOptions {
  /** Give up waiting for in-flight requests after this long (default 30000 ms). The built-in router then aborts them. */
  timeoutMs?: number
  /** Resolve as soon as no new requests go to it, without waiting for in-flight ones (default false: wait). */
  noWait?: boolean
}

export interface DrainResult {
  backend: string
  pool: string
  /** In-flight requests when the drain began. */
  inFlightAtStart: number
  /** True when in-flight reached 0 within the timeout. */
  drained: boolean
  /** Requests still in flight when it stopped waiting (aborted by the built-in router). */
  remaining: number
  waitedMs: number
}

/** A change an engine made, for the journal. */
export type TrafficChange =
  | { kind: 'weights'; pool: string; weights: Record<string, number>; previous: Record<string, number> }
  | { kind: 'state'; pool: string; backend: string; state: AdminState; previous: AdminState }
  | { kind: 'drained'; pool: string; backend: string; result: DrainResult }
  | { kind: 'backend-down'; pool: string; backend: string; reason: string; inFlight: number }
  | { kind: 'backend-up'; pool: string; backend: string; reason: string; downMs: number }

/**
 * Traffic control, whatever the engine. Backends are named by their name, or `pool/name` when a
 * name is used in more than one pool (HAProxy). Every method refuses bad input with an OpsError
 * (exit 2: unknown pool or backend, weights outside 0–100 or not summing to 100) and leaves the
 * running state untouched; an unreachable engine is an OpsError with exit 3.
 */
export interface TrafficControl {
  readonly engine: 'builtin' | 'haproxy'
  /** Pools, backends, weights, states, health. */
  snapshot(): Promise<TrafficSnapshot>
  /** Sets the weights of every backend of a pool at once (whole percentages summing to 100). */
  setWeights(pool: string, weights: Record<string, number>): Promise<TrafficSnapshot>
  /** No new requests to the backend; waits for in-flight ones up to the timeout (unless noWait). */
  drain(backend: string, options?: DrainOptions): Promise<DrainResult>
  /** Back to ready after drain or maint. */
  undrain(backend: string): Promise<TrafficSnapshot>
  /** ready, drain (without waiting) or maint (out at once; in-flight requests still finish). */
  setState(backend: string, state: AdminState): Promise<TrafficSnapshot>
  /** Counters, in-flight and latency of every backend. */
  stats(): Promise<BackendStats[]>
  /** Raw latency samples and outcome counts per backend for a window (see BackendWindow for what HAProxy gives). */
  samples(request: SampleRequest): Promise<SampleWindow>
  /** Releases connections (the engine keeps running). */
  close(): Promise<void>
}

export function emptyOutcomes(): OutcomeCounts {
  return { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, connection: 0 }
}

/** The outcome class of an HTTP status (1xx counts with 2xx: an answer that is not a failure). */
export function outcomeIndex(status: number): number {
  if (status < 300) return 0
  if (status < 400) return 1
  if (status < 500) return 2
  return 3
}

export const CONNECTION_OUTCOME = 4
