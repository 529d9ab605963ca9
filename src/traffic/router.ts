/**
 * `opsctl router start`: the built-in router as a running thing. Starts the proxy listener and
 * the admin listener, checks that every backend resolves and accepts connections, runs the
 * active health checks, restores and persists the state file, and stops gracefully.
 */
import { lookup } from 'node:dns/promises'
import { createServer, type Server } from 'node:http'
import { connect, isIP, type AddressInfo } from 'node:net'
import { Agent, request as undiciRequest } from 'undici'
import { badInput, environmentError } from '../core/index.js'
import { createAdminHandler } from './admin-server.js'
import type { TrafficChange, TrafficControl } from './control.js'
import { RouterEngine } from './engine.js'
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from './health.js'
import { createProxyHandler, type ProxyOptions } from './proxy.js'
import { DEFAULT_SAMPLE_OPTIONS, type SampleStoreOptions } from './samples.js'
import { stateFileText, writeFileAtomicSync } from './state-file.js'
import type { Topology } from './topology.js'

export interface HealthCheckOptions {
  /** GET this path; 2xx and 3xx pass. */
  path: string
  intervalMs: number
  timeoutMs: number
}

export interface RouterOptions {
  topology: Topology
  host: string
  /** 0 picks a free port. */
  port: number
  adminHost: string
  adminPort: number
  token: string
  /** Allow the admin API on a non-loopback address (off: refused). */
  adminRemote?: boolean
  proxy?: Partial<ProxyOptions>
  /** Active checks; undefined disables them (passive checks and the cooldown remain). */
  healthCheck?: HealthCheckOptions | undefined
  health?: Partial<HealthPolicy>
  drainTimeoutMs?: number
  upstreamTimeoutMs?: number
  samples?: Partial<SampleStoreOptions>
  /** Where weights and states are kept across restarts; undefined keeps them in memory. */
  stateFile?: string
  /** Check at start that every backend resolves and accepts connections (default true). */
  probeBackends?: boolean
  /** Every change: weights, states, drains, backends going down and up. Called after the state file is written. */
  onChange?: (change: TrafficChange) => void
  /** Diagnostics (a state file that could not be written, and the like). */
  log?: (message: string) => void
}

export interface RunningRouterHandle {
  url: string
  adminUrl: string
  port: number
  adminPort: number
  /** The running router's traffic control, in process (what its admin API serves). */
  control: TrafficControl
  engine: RouterEngine
  /** Stops listening, lets in-flight requests finish (up to graceMs), closes every connection. Idempotent. */
  stop(graceMs?: number): Promise<void>
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000

export async function startRouter(options: RouterOptions): Promise<RunningRouterHandle> {
  if (!options.adminRemote && !isLoopback(options.adminHost))
    throw badInput(
      `The admin API would listen on ${options.adminHost}, which is not a loopback address`,
      'Keep router.adminHost on 127.0.0.1 (tunnel to it), or set router.adminRemote: true if the network is trusted.',
    )
  if (options.probeBackends !== false) await probeBackends(options.topology)

  const log = options.log ?? (() => {})
  const persist = () => {
    if (!options.stateFile) return
    try {
      writeFileAtomicSync(options.stateFile, stateFileText(engine.topology(), new Date()))
    } catch (error) {
      log(`router: cannot write ${options.stateFile}: ${(error as Error).message}`)
    }
  }
  const engine: RouterEngine = new RouterEngine({
    topology: options.topology,
    health: { ...DEFAULT_HEALTH_POLICY, activeChecks: options.healthCheck !== undefined, ...options.health },
    samples: { ...DEFAULT_SAMPLE_OPTIONS, ...options.samples },
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
    onChange: (change) => {
      if (change.kind === 'weights' || change.kind === 'state') persist()
      options.onChange?.(change)
    },
  })
  persist()

  const proxy = createServer(
    createProxyHandler(engine, { overrideHeader: 'x-opsctl-route', exposeBackend: true, ...withoutUndefined(options.proxy ?? {}) }),
  )
  proxy.keepAliveTimeout = 65_000
  proxy.headersTimeout = 66_000
  const admin = createServer(createAdminHandler(engine, options.token))
  const checker = options.healthCheck ? startHealthChecks(engine, options.healthCheck) : startCooldowns(engine)

  try {
    await listen(proxy, options.port, options.host, 'router')
    await listen(admin, options.adminPort, options.adminHost, 'admin API')
  } catch (error) {
    checker.stop()
    proxy.close()
    admin.close()
    await engine.close()
    throw error
  }
  const port = (proxy.address() as AddressInfo).port
  const adminPort = (admin.address() as AddressInfo).port
  let stopping: Promise<void> | undefined
  return {
    url: `http://${hostForUrl(options.host)}:${port}`,
    adminUrl: `http://${hostForUrl(options.adminHost)}:${adminPort}`,
    port,
    adminPort,
    control: engine,
    engine,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        checker.stop()
        proxy.close()
        admin.close()
        proxy.closeIdleConnections()
        admin.closeAllConnections()
        const deadline = Date.now() + graceMs
        const inFlight = () => [...engine.backends.values()].reduce((sum, backend) => sum + backend.metrics.inFlight, 0)
        while (inFlight() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
        proxy.closeAllConnections()
        await engine.close()
      })()
      return stopping
    },
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>
}

function listen(server: Server, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error & { code?: string }) => {
      server.off('listening', onListening)
      reject(
        error.code === 'EADDRINUSE'
          ? environmentError(
              `The ${what} cannot listen on ${host}:${port}: the port is in use`,
              'Choose another port (0 picks a free one).',
            )
          : environmentError(`The ${what} cannot listen on ${host}:${port}: ${error.message}`),
      )
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1' || host === '[::1]'
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host
}

/** Every backend's host resolves (else bad input, exit 2) and its port accepts a connection (else environment, exit 3). */
export async function probeBackends(
  topology: Topology,
  timeoutMs = 3000,
  resolveHost: (host: string) => Promise<{ address: string }> = lookup,
): Promise<void> {
  await Promise.all(
    topology.backends.map(async (backend) => {
      const url = new URL(backend.url)
      const host = url.hostname.replace(/^\[|\]$/g, '')
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
      let address: string
      try {
        address = isIP(host) ? host : (await resolveHost(host)).address
      } catch (error) {
        throw badInput(
          `Backend ${backend.name}: ${url.hostname} does not resolve (${(error as { code?: string }).code ?? 'lookup failed'})`,
        )
      }
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: address, port })
        const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs)
        socket.once('connect', () => {
          clearTimeout(timer)
          socket.end()
          resolve()
        })
        socket.once('error', (error: Error & { code?: string }) => {
          clearTimeout(timer)
          reject(
            environmentError(
              `Backend ${backend.name} at ${backend.url} ${error.code === 'ECONNREFUSED' ? 'refuses connections' : `is unreachable: ${error.message}`}`,
              'Start it first, or check the port.',
            ),
          )
        })
      })
    }),
  )
}

interface Stoppable {
  stop(): void
}

/** Active checks: every interval, GET the path of each backend not in maint; rise/fall in HealthState. */
function startHealthChecks(engine: RouterEngine, check: HealthCheckOptions): Stoppable {
  const agent = new Agent({ keepAliveTimeout: Math.max(check.intervalMs * 2, 4000), connections: 1 })
  let running = false
  const round = async () => {
    if (running) return
    running = true
    try {
      await Promise.all(
        [...engine.backends.values()]
          .filter((backend) => backend.state !== 'maint')
          .map(async (backend) => {
            try {
              const answer = await undiciRequest(new URL(check.path, backend.spec.url), {
                dispatcher: agent,
                headersTimeout: check.timeoutMs,
                bodyTimeout: check.timeoutMs,
                signal: AbortSignal.timeout(check.timeoutMs),
              })
              await answer.body.dump()
              const detail = `GET ${check.path} ${answer.statusCode}`
              backend.healthSignal(
                answer.statusCode < 400
                  ? backend.health.checkPassed(engine.now(), detail)
                  : backend.health.checkFailed(engine.now(), detail),
              )
            } catch (error) {
              const code = (error as { code?: string }).code
              backend.healthSignal(backend.health.checkFailed(engine.now(), `GET ${check.path}: ${code ?? (error as Error).message}`))
            }
          }),
      )
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void round().catch(() => {}), check.intervalMs)
  timer.unref()
  return {
    stop() {
      clearInterval(timer)
      void agent.destroy().catch(() => {})
    },
  }
}

/** Without active checks, passively downed backends come back on trial after the cooldown. */
function startCooldowns(engine: RouterEngine): Stoppable {
  const timer = setInterval(() => {
    for (const backend of engine.backends.values()) backend.healthSignal(backend.health.cooldownElapsed(engine.now()))
  }, 500)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
