import type pg from 'pg'
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface ServiceMetrics {
  /** Its own registry, never prom-client's global one, so two apps in one process stay apart. */
  registry: Registry
  observeRequest(labels: { route: string; method: string; status: number }, seconds: number): void
}

/** Fine at the low end, where a healthy JSON route lives, and up to the 10 s shutdown limit. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** An idle connection is handed out in microseconds; a starved pool makes requests queue for up to the 5 s connect timeout. */
const ACQUIRE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * Request durations per route pattern, pool saturation, and the process defaults (event-loop
 * lag through monitorEventLoopDelay, heap, CPU): what a canary judge and a load test read.
 */
export function createServiceMetrics(pool: pg.Pool): ServiceMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  })

  // Read on scrape rather than tracked on events: the pool already counts.
  const poolGauges: Array<[string, string, () => number]> = [
    ['pg_pool_total_connections', 'Connections the pool holds, busy or idle', () => pool.totalCount],
    ['pg_pool_idle_connections', 'Connections idle in the pool', () => pool.idleCount],
    ['pg_pool_waiting_requests', 'Queries waiting for a free connection', () => pool.waitingCount],
    ['pg_pool_max_connections', 'The most connections the pool opens (PG_POOL_MAX)', () => pool.options.max ?? 10],
  ]
  for (const [name, help, read] of poolGauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read())
      },
    })
  }

  const acquireDuration = new Histogram({
    name: 'pg_pool_acquire_duration_seconds',
    help: 'Time from asking the pool for a connection to getting one (pool.query and pool.connect)',
    buckets: ACQUIRE_BUCKETS,
    registers: [registry],
  })
  onPoolAcquire(pool, (seconds) => acquireDuration.observe(seconds))

  return {
    registry,
    observeRequest(labels, seconds) {
      requestDuration.observe({ route: labels.route, method: labels.method, status: String(labels.status) }, seconds)
    },
  }
}

type AcquireObserver = (seconds: number) => void
type ConnectCallback = (error: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void
const ACQUIRE_OBSERVERS = Symbol('acquire observers')

/**
 * Times every checkout: pg's Pool has no event for "a caller started waiting", so its connect is
 * wrapped once per pool (pool.query checks out through this.connect too). Each app built on the
 * pool adds its observer.
 */
function onPoolAcquire(pool: pg.Pool, observer: AcquireObserver): void {
  const holder = pool as pg.Pool & { [ACQUIRE_OBSERVERS]?: Set<AcquireObserver> }
  const existing = holder[ACQUIRE_OBSERVERS]
  if (existing) {
    existing.add(observer)
    return
  }
  const observers = new Set([observer])
  holder[ACQUIRE_OBSERVERS] = observers
  const connect = pool.connect.bind(pool) as (callback?: ConnectCallback) => Promise<pg.PoolClient> | undefined
  const observe = (started: number) => {
    const seconds = (performance.now() - started) / 1000
    for (const each of observers) each(seconds)
  }
  ;(pool as unknown as { connect: (callback?: ConnectCallback) => unknown }).connect = (callback?: ConnectCallback) => {
    const started = performance.now()
    if (typeof callback === 'function') {
      return connect((error, client, done) => {
        if (!error) observe(started)
        callback(error, client, done)
      })
    }
    return connect()!.then((client) => {
      observe(started)
      return client
    })
  }
}
