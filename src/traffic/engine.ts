/**
 * The built-in router's live state: pools of backends with their upstream connection pools
 * (undici, keep-alive), weights, admin states, health and metrics. The proxy reads it on every
 * request; the admin API changes it through the `TrafficControl` methods, which validate first
 * and change nothing on bad input. Every change is reported to `onChange` (journal, state file).
 */
import { Pool } from 'undici'
import { badInput } from '../core/index.js'
import {
  OUTCOME_CLASSES,
  emptyOutcomes,
  type AdminState,
  type BackendStats,
  type BackendWindow,
  type DrainOptions,
  type DrainResult,
  type SampleRequest,
  type SampleWindow,
  type TrafficChange,
  type TrafficControl,
  type TrafficSnapshot,
} from './control.js'
import { HealthState, type HealthPolicy, type HealthTransition } from './health.js'
import { BackendMetrics, prometheusText } from './metrics.js'
import { RouteTable } from './routes.js'
import type { SampleStoreOptions } from './samples.js'
import { PoolSelector } from './selection.js'
import { checkPoolWeights, type BackendSpec, type Topology } from './topology.js'

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000
const DRAIN_POLL_MS = 10

export interface EngineOptions {
  topology: Topology
  health: HealthPolicy
  samples: SampleStoreOptions
  /** Upstream: give up on a backend that sends no headers (or no body data) for this long. */
  upstreamTimeoutMs: number
  /** Upstream connections per backend (undefined: as many as requests need). */
  connectionsPerBackend?: number
  drainTimeoutMs?: number
  onChange?: (change: TrafficChange) => void
  /** Wall-clock ms (epochs of the samples, ISO times); defaults to performance.timeOrigin + performance.now(). */
  now?: () => number
}

export class BackendRuntime {
  dispatcher: Pool
  weight = 0
  state: AdminState = 'ready'
  readonly metrics: BackendMetrics
  readonly health: HealthState
  /** Index in its pool's selector. */
  index = 0

  constructor(
    readonly spec: BackendSpec,
    readonly pool: PoolRuntime,
    private readonly engine: RouterEngine,
  ) {
    this.dispatcher = engine.createDispatcher(spec.url)
    this.metrics = new BackendMetrics(engine.options.samples)
    this.health = new HealthState(engine.options.health, engine.now())
  }

  get name(): string {
    return this.spec.name
  }

  /** Feed a health signal; a transition updates the pool and is reported. */
  healthSignal(transition: HealthTransition): void {
    if (transition) this.engine.healthChanged(this, transition.to === 'up', transition.reason)
  }
}

export class PoolRuntime {
  readonly backends: BackendRuntime[] = []
  selector!: PoolSelector

  constructor(readonly name: string) {}

  refresh(): void {
    const members = this.backends.map((backend) => ({
      name: backend.name,
      weight: backend.weight,
      eligible: backend.state === 'ready' && backend.health.up,
      available: backend.state === 'ready' && backend.health.up,
    }))
    if (this.selector) this.selector.update(members)
    else this.selector = new PoolSelector(members)
  }
}

export class RouterEngine implements TrafficControl {
  readonly engine = 'builtin' as const
  readonly pools = new Map<string, PoolRuntime>()
  readonly backends = new Map<string, BackendRuntime>()
  readonly routes: RouteTable<PoolRuntime>
  readonly routeSpecs: Topology['routes']
  readonly now: () => number
  private closed = false

  constructor(readonly options: EngineOptions) {
    this.now = options.now ?? (() => performance.timeOrigin + performance.now())
    for (const spec of options.topology.backends) {
      let pool = this.pools.get(spec.pool)
      if (!pool) this.pools.set(spec.pool, (pool = new PoolRuntime(spec.pool)))
      const backend = new BackendRuntime(spec, pool, this)
      backend.index = pool.backends.length
      backend.weight = options.topology.weights[spec.pool]?.[spec.name] ?? 0
      backend.state = options.topology.states[spec.name] ?? 'ready'
      pool.backends.push(backend)
      this.backends.set(spec.name, backend)
    }
    for (const pool of this.pools.values()) pool.refresh()
    this.routeSpecs = options.topology.routes.map((route) => ({ ...route }))
    const fallback =
      this.pools.get(options.topology.routes.find((route) => route.prefix === '/')?.pool ?? '') ?? this.pools.values().next().value!
    this.routes = new RouteTable(
      options.topology.routes.map((route) => ({ ...route, target: this.pools.get(route.pool)! })),
      fallback,
    )
  }

  createDispatcher(origin: string): Pool {
    return new Pool(origin, {
      connections: this.options.connectionsPerBackend ?? null,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: this.options.upstreamTimeoutMs,
      bodyTimeout: this.options.upstreamTimeoutMs,
      connectTimeout: Math.min(10_000, this.options.upstreamTimeoutMs),
    })
  }

  /** The current topology, for the state file. */
  topology(): Topology {
    const weights: Topology['weights'] = {}
    const states: Topology['states'] = {}
    for (const pool of this.pools.values()) {
      weights[pool.name] = Object.fromEntries(pool.backends.map((backend) => [backend.name, backend.weight]))
      for (const backend of pool.backends) if (backend.state !== 'ready') states[backend.name] = backend.state
    }
    return { backends: [...this.backends.values()].map((backend) => ({ ...backend.spec })), routes: this.routeSpecs, weights, states }
  }

  healthChanged(backend: BackendRuntime, up: boolean, reason: string): void {
    backend.pool.refresh()
    if (up) {
      this.options.onChange?.({
        kind: 'backend-up',
        pool: backend.pool.name,
        backend: backend.name,
        reason,
        downMs: Math.round(backend.health.lastDurationMs),
      })
      return
    }
    this.options.onChange?.({
      kind: 'backend-down',
      pool: backend.pool.name,
      backend: backend.name,
      reason,
      inFlight: backend.metrics.inFlight,
    })
  }

  /** A backend by name, or pool/name. */
  backend(name: string): BackendRuntime {
    const slash = name.indexOf('/')
    const found = slash === -1 ? this.backends.get(name) : this.backends.get(name.slice(slash + 1))
    if (!found || (slash !== -1 && found.pool.name !== name.slice(0, slash)))
      throw badInput(`Unknown backend "${name}" (backends: ${[...this.backends.keys()].join(', ')})`)
    return found
  }

  async snapshot(): Promise<TrafficSnapshot> {
    return {
      engine: 'builtin',
      pools: [...this.pools.values()].map((pool) => ({
        name: pool.name,
        backends: pool.backends.map((backend) => ({
          name: backend.name,
          address: backend.spec.url,
          weight: backend.weight,
          state: backend.state,
          health: this.healthOf(backend),
          inFlight: backend.metrics.inFlight,
        })),
      })),
      routes: this.routeSpecs.map((route) => ({ ...route })),
    }
  }

  private healthOf(backend: BackendRuntime) {
    return { up: backend.health.up, reason: backend.health.reason, since: new Date(backend.health.since).toISOString() }
  }

  async setWeights(poolName: string, weights: Record<string, number>): Promise<TrafficSnapshot> {
    const pool = this.pools.get(poolName)
    if (!pool) throw badInput(`Unknown pool "${poolName}" (pools: ${[...this.pools.keys()].join(', ')})`)
    const checked = checkPoolWeights(
      poolName,
      pool.backends.map((backend) => backend.name),
      weights,
    )
    const previous = Object.fromEntries(pool.backends.map((backend) => [backend.name, backend.weight]))
    for (const backend of pool.backends) backend.weight = checked[backend.name]!
    pool.refresh()
    this.options.onChange?.({ kind: 'weights', pool: poolName, weights: checked, previous })
    return this.snapshot()
  }

  async setState(name: string, state: AdminState): Promise<TrafficSnapshot> {
    if (state !== 'ready' && state !== 'drain' && state !== 'maint')
      throw badInput(`Unknown state "${String(state)}": ready, drain or maint`)
    const backend = this.backend(name)
    this.changeState(backend, state)
    return this.snapshot()
  }

  private changeState(backend: BackendRuntime, state: AdminState): void {
    const previous = backend.state
    if (previous === state) return
    backend.state = state
    backend.pool.refresh()
    this.options.onChange?.({ kind: 'state', pool: backend.pool.name, backend: backend.name, state, previous })
  }

  async undrain(name: string): Promise<TrafficSnapshot> {
    return this.setState(name, 'ready')
  }

  /**
   * No new requests go to the backend at once; in-flight ones finish (aborted after the
   * timeout); then its idle keep-alive connections are closed, so that it can stop without a
   * client seeing a reset. A later undrain opens new connections.
   */
  async drain(name: string, options: DrainOptions = {}): Promise<DrainResult> {
    const backend = this.backend(name)
    const timeoutMs = options.timeoutMs ?? this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw badInput(`Drain timeout ${timeoutMs} ms is not a duration`)
    const started = this.now()
    const inFlightAtStart = backend.metrics.inFlight
    this.changeState(backend, 'drain')
    const result = (drained: boolean): DrainResult => ({
      backend: backend.name,
      pool: backend.pool.name,
      inFlightAtStart,
      drained,
      remaining: backend.metrics.inFlight,
      waitedMs: Math.round(this.now() - started),
    })
    if (options.noWait) return result(backend.metrics.inFlight === 0)
    const deadline = started + timeoutMs
    while (backend.metrics.inFlight > 0 && this.now() < deadline && backend.state === 'drain' && !this.closed) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS))
    }
    const drained = backend.metrics.inFlight === 0
    const outcome = result(drained)
    if (backend.state === 'drain') await this.replaceDispatcher(backend, drained)
    this.options.onChange?.({ kind: 'drained', pool: backend.pool.name, backend: backend.name, result: outcome })
    return outcome
  }

  /** Closes the backend's connections (gracefully, or aborting what is left) and gives it fresh ones for later. */
  private async replaceDispatcher(backend: BackendRuntime, graceful: boolean): Promise<void> {
    const old = backend.dispatcher
    backend.dispatcher = this.createDispatcher(backend.spec.url)
    if (graceful) await old.close().catch(() => {})
    else await old.destroy(new Error(`drain of ${backend.name} timed out`)).catch(() => {})
  }

  async stats(): Promise<BackendStats[]> {
    return [...this.backends.values()].map((backend) => ({
      pool: backend.pool.name,
      backend: backend.name,
      address: backend.spec.url,
      weight: backend.weight,
      state: backend.state,
      health: this.healthOf(backend),
      requests: backend.metrics.requests,
      outcomes: backend.metrics.outcomeCounts(),
      inFlight: backend.metrics.inFlight,
      latency: backend.metrics.latency(),
      retried: backend.metrics.retried,
    }))
  }

  async samples(request: SampleRequest): Promise<SampleWindow> {
    const now = this.now()
    const from = sampleWindowStart(request, now)
    let complete = true
    let fromMs = now
    const backends: BackendWindow[] = [...this.backends.values()].map((backend) => {
      const window = backend.metrics.samples.collect(from, now, request.maxSamples)
      complete &&= window.complete
      fromMs = Math.min(fromMs, window.fromMs)
      const outcomes = emptyOutcomes()
      OUTCOME_CLASSES.forEach((name, index) => (outcomes[name] = window.outcomes[index]!))
      return {
        pool: backend.pool.name,
        backend: backend.name,
        requests: window.requests,
        outcomes,
        answered: window.answered,
        latencyMs: window.latencyMs,
        sampled: window.sampled,
      }
    })
    return { from: new Date(fromMs).toISOString(), to: new Date(now).toISOString(), complete, backends }
  }

  prometheus(): string {
    return prometheusText(
      [...this.backends.values()].map((backend) => ({
        pool: backend.pool.name,
        backend: backend.name,
        up: backend.health.up,
        weight: backend.weight,
        state: backend.state,
        metrics: backend.metrics,
      })),
    )
  }

  /** The engine's own connections; the router calls it on stop. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.backends.values()].map((backend) => backend.dispatcher.destroy().catch(() => {})))
  }
}

/** Start of a sample window in epoch ms: `since` (ISO or ms) or the last `windowMs`. */
export function sampleWindowStart(request: SampleRequest, now: number): number {
  if (request.since !== undefined) {
    const ms = typeof request.since === 'number' ? request.since : Date.parse(request.since)
    if (!Number.isFinite(ms)) throw badInput(`since: "${String(request.since)}" is not an ISO time or epoch milliseconds`)
    if (ms > now) throw badInput(`since: ${new Date(ms).toISOString()} is in the future`)
    return ms
  }
  if (request.windowMs !== undefined) {
    if (!Number.isFinite(request.windowMs) || request.windowMs <= 0)
      throw badInput(`window: ${request.windowMs} ms is not a positive duration`)
    return now - request.windowMs
  }
  throw badInput('Give a window start (since) or a window length (windowMs)')
}
