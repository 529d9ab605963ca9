/**
 * What the `opsctl router` commands do, one function each, so that the commands stay a page:
 * run the router in the foreground until a signal, and act on a running router (or HAProxy)
 * through `TrafficControl`.
 */
import { rmSync } from 'node:fs'
import { badInput, type Settings } from '../core/index.js'
import type { DrainResult, TrafficControl, TrafficSnapshot } from './control.js'
import { journalRecorder, routerStartPlan, trafficControlFor, type ControlRequest, type RouterStartRequest } from './options.js'
import type { RouterStarted, RouterStatus } from './render.js'
import { startRouter } from './router.js'
import { writeRunningFile } from './state-file.js'
import { DEFAULT_POOL, parseWeightList, type Topology } from './topology.js'

export interface RunRouterHooks {
  /** Called once listening (the command prints the URLs then). */
  onListening(started: RouterStarted): void
  /** Diagnostics: changes, journal failures. */
  log(message: string): void
  /** Aborted on SIGINT/SIGTERM: the router then stops gracefully. */
  signal: AbortSignal
}

export interface RouterRun extends RouterStarted {
  stoppedAt: string
}

/** Runs the built-in router until the signal aborts, then stops it gracefully. */
export async function runRouter(settings: Settings, request: RouterStartRequest, hooks: RunRouterHooks): Promise<RouterRun> {
  const plan = routerStartPlan(settings, request)
  for (const note of plan.notes) hooks.log(note)
  const journal = journalRecorder(settings, 'builtin', hooks.log)
  const router = await startRouter({
    ...plan.options,
    onChange: (change) => {
      if (change.kind === 'backend-down') hooks.log(`${change.pool}/${change.backend} is down: ${change.reason}`)
      if (change.kind === 'backend-up') hooks.log(`${change.pool}/${change.backend} is up again: ${change.reason}`)
      journal.record(change)
    },
    log: hooks.log,
  })
  const startedAt = new Date().toISOString()
  writeRunningFile(plan.paths.running, { pid: process.pid, url: router.url, adminUrl: router.adminUrl, startedAt })
  const started: RouterStarted = {
    url: router.url,
    adminUrl: router.adminUrl,
    pid: process.pid,
    restored: plan.restored,
    tokenFile: plan.tokenSource === 'given' ? '(given)' : plan.paths.token,
    ...describeTopology(router.engine.topology()),
  }
  try {
    hooks.onListening(started)
    if (!hooks.signal.aborted) await new Promise((resolve) => hooks.signal.addEventListener('abort', resolve, { once: true }))
  } finally {
    await router.stop()
    rmSync(plan.paths.running, { force: true })
    await journal.flush()
  }
  return { ...started, ...describeTopology(router.engine.topology()), stoppedAt: new Date().toISOString() }
}

function describeTopology(topology: Topology): Pick<RouterStarted, 'backends' | 'routes'> {
  return {
    backends: topology.backends.map((backend) => ({
      pool: backend.pool,
      name: backend.name,
      url: backend.url,
      weight: topology.weights[backend.pool]?.[backend.name] ?? 0,
      state: topology.states[backend.name] ?? 'ready',
    })),
    routes: topology.routes,
  }
}

type Act<T> = (control: TrafficControl, target: string) => Promise<T>

async function withControl<T>(settings: Settings, request: ControlRequest, log: (message: string) => void, act: Act<T>): Promise<T> {
  const handle = trafficControlFor(settings, request, log)
  try {
    return await act(handle.control, handle.target)
  } finally {
    await handle.close()
  }
}

export function routerStatus(
  settings: Settings,
  request: ControlRequest,
  log: (message: string) => void = () => {},
): Promise<RouterStatus> {
  return withControl(settings, request, log, async (control, target) => {
    const [snapshot, backends] = await Promise.all([control.snapshot(), control.stats()])
    return { engine: control.engine, target, routes: snapshot.routes, backends }
  })
}

/** `stable=90,canary=10` for one pool (the default pool, or the only one). */
export function setRouterWeights(
  settings: Settings,
  request: ControlRequest & { pool?: string | undefined; weights: readonly string[] },
  log: (message: string) => void = () => {},
): Promise<TrafficSnapshot & { pool: string }> {
  const weights = parseWeightList(request.weights, 'weights')
  return withControl(settings, request, log, async (control) => {
    const pool = request.pool ?? (await onlyPool(control))
    return { ...(await control.setWeights(pool, weights)), pool }
  })
}

async function onlyPool(control: TrafficControl): Promise<string> {
  const { pools } = await control.snapshot()
  if (pools.length === 1) return pools[0]!.name
  if (pools.some((pool) => pool.name === DEFAULT_POOL)) return DEFAULT_POOL
  throw badInput(`Several pools (${pools.map((pool) => pool.name).join(', ')}): say which with --pool`)
}

export function drainBackend(
  settings: Settings,
  request: ControlRequest & { backend: string; timeoutMs?: number | undefined; noWait?: boolean | undefined },
  log: (message: string) => void = () => {},
): Promise<DrainResult> {
  return withControl(settings, request, log, (control) =>
    control.drain(request.backend, {
      ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
      ...(request.noWait ? { noWait: true } : {}),
    }),
  )
}

export function undrainBackend(
  settings: Settings,
  request: ControlRequest & { backend: string; state?: 'ready' | 'maint' | undefined },
  log: (message: string) => void = () => {},
): Promise<TrafficSnapshot & { backend: string }> {
  return withControl(settings, request, log, async (control) => ({
    ...(await control.setState(request.backend, request.state ?? 'ready')),
    backend: request.backend,
  }))
}
