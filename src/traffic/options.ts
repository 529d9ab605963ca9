/**
 * From opsctl.yaml, OPSCTL_* and flags to what the router starts with, and to the
 * `TrafficControl` the other router commands act through (the running router's admin API, or
 * HAProxy when a socket is configured). Saved state wins over the initial weights of the command
 * line when the backends are the same, so that restarting with the same command mid-rollout keeps
 * the rollout's weights; `--reset` starts afresh.
 */
import { badInput, parseDuration, type Settings } from '../core/index.js'
import { recordEvent } from '../journal/index.js'
import { routerClient } from './admin-client.js'
import type { TrafficChange, TrafficControl } from './control.js'
import { trafficEvent } from './events.js'
import { haproxyTraffic } from './haproxy.js'
import { listenHaproxyLog, type HaproxyLogListener } from './haproxy-log.js'
import { haproxyConfig, serverAddress } from './haproxy-config.js'
import type { RouterOptions } from './router.js'
import {
  readRunningFile,
  readStateFile,
  readTokenFile,
  resolveToken,
  routerPaths,
  type RouterPaths,
  type SavedState,
} from './state-file.js'
import { buildTopology, parseBackendSpec, parseRouteSpec, parseWeightList, type Topology } from './topology.js'

export interface RouterStartRequest {
  backends?: readonly string[] | undefined
  weights?: readonly string[] | undefined
  routes?: readonly string[] | undefined
  host?: string | undefined
  port?: number | undefined
  adminHost?: string | undefined
  adminPort?: number | undefined
  stickyCookie?: string | undefined
  stickyHeader?: string | undefined
  /** Ignore the saved state. */
  reset?: boolean | undefined
}

export interface RouterStartPlan {
  options: RouterOptions
  paths: RouterPaths
  /** Weights and states came from the saved state (a restart). */
  restored: boolean
  tokenSource: 'given' | 'file' | 'generated'
  notes: string[]
}

export function routerStartPlan(settings: Settings, request: RouterStartRequest = {}): RouterStartPlan {
  const config = settings.config.router
  const paths = routerPaths(settings.stateDir)
  const notes: string[] = []
  const backendTexts = request.backends?.length ? request.backends : config.backends
  const routeTexts = request.routes?.length ? request.routes : config.routes
  const weightTexts = request.weights?.length ? request.weights : config.weights
  const source = request.backends?.length ? '--backend' : 'router.backends'
  const saved = request.reset ? undefined : readStateFile(paths.state)

  let topology: Topology
  let restored = false
  if (backendTexts.length === 0) {
    if (!saved)
      throw badInput(
        'No backends to route to',
        'Give --backend stable=http://127.0.0.1:3001 --backend canary=http://127.0.0.1:3002, or router.backends in opsctl.yaml.',
      )
    topology = buildTopology({ backends: saved.backends, routes: saved.routes, weights: flatWeights(saved), states: saved.states })
    restored = true
  } else {
    const backends = backendTexts.map((text) => parseBackendSpec(text, source))
    const routes = routeTexts.map((text) => parseRouteSpec(text, request.routes?.length ? '--route' : 'router.routes'))
    const weights = weightTexts.length ? parseWeightList(weightTexts, request.weights?.length ? '--weights' : 'router.weights') : undefined
    topology = buildTopology({ backends, routes, ...(weights ? { weights } : {}) })
    if (saved && sameBackends(saved, topology)) {
      topology = buildTopology({ backends, routes, weights: flatWeights(saved), states: saved.states })
      restored = true
    } else if (saved) {
      notes.push(`The saved router state (${paths.state}) has other backends: starting from the given weights.`)
    }
  }

  const token = resolveToken(config.token, paths.token)
  const check = config.healthCheck
  const options: RouterOptions = {
    topology,
    host: request.host ?? config.host,
    port: request.port ?? config.port,
    adminHost: request.adminHost ?? config.adminHost,
    adminPort: request.adminPort ?? config.adminPort,
    adminRemote: config.adminRemote,
    token: token.token,
    proxy: {
      overrideHeader: config.overrideHeader,
      exposeBackend: config.exposeBackend,
      stickyCookie: request.stickyCookie ?? config.stickyCookie,
      stickyHeader: request.stickyHeader ?? config.stickyHeader,
    },
    healthCheck: check.enabled
      ? {
          path: check.path,
          intervalMs: parseDuration(check.interval, 'router.healthCheck.interval'),
          timeoutMs: parseDuration(check.timeout, 'router.healthCheck.timeout'),
        }
      : undefined,
    health: {
      rise: check.rise,
      fall: check.fall,
      connectFailures: config.passive.connectFailures,
      errorBurst: config.passive.errorBurst,
      cooldownMs: parseDuration(config.passive.cooldown, 'router.passive.cooldown'),
    },
    drainTimeoutMs: parseDuration(config.drainTimeout, 'router.drainTimeout'),
    upstreamTimeoutMs: parseDuration(config.upstreamTimeout, 'router.upstreamTimeout'),
    samples: sampleOptions(config.samples),
    stateFile: paths.state,
  }
  return { options, paths, restored, tokenSource: token.source, notes }
}

function sampleOptions(samples: Settings['config']['router']['samples']) {
  const epochMs = parseDuration(samples.epoch, 'router.samples.epoch')
  const retainMs = parseDuration(samples.retain, 'router.samples.retain')
  if (epochMs < 10) throw badInput(`router.samples.epoch: ${samples.epoch} is shorter than 10ms`)
  const retainEpochs = Math.ceil(retainMs / epochMs)
  if (retainEpochs < 1 || retainEpochs > 1_000_000)
    throw badInput(`router.samples.retain: ${samples.retain} is not between one epoch and a million epochs`)
  return { epochMs, perEpoch: samples.perEpoch, retainEpochs }
}

function flatWeights(saved: SavedState): Record<string, number> {
  return Object.assign({}, ...Object.values(saved.weights)) as Record<string, number>
}

function sameBackends(saved: SavedState, topology: Topology): boolean {
  const key = (backend: { name: string; pool: string; url: string }) => `${backend.pool}/${backend.name}=${backend.url}`
  const a = saved.backends.map(key).sort()
  const b = topology.backends.map(key).sort()
  return a.length === b.length && a.every((item, index) => item === b[index])
}

export interface ControlRequest {
  adminUrl?: string | undefined
  haproxySocket?: string | undefined
}

export interface ControlHandle {
  control: TrafficControl
  /** Where it acts: the admin URL or the HAProxy socket. */
  target: string
  /** Waits for the journal events of the changes made (HAProxy: written by this process). */
  close(): Promise<void>
}

/**
 * The control the router commands act through: HAProxy when a socket is given (flag or
 * router.haproxySocket), else the running router's admin API (its running.json, else
 * router.adminHost:adminPort), with the token from config/env or .opsctl/router/token.
 */
export function trafficControlFor(
  settings: Settings,
  request: ControlRequest = {},
  log: (message: string) => void = () => {},
): ControlHandle {
  const config = settings.config.router
  const socket = request.haproxySocket ?? config.haproxySocket
  if (socket) {
    const journal = journalRecorder(settings, 'haproxy', log)
    // router.haproxyLog: HAProxy logs each request there (haproxy-config --log); listening gives
    // raw latency samples per server, which the canary judge needs. Without it, averages only.
    const requestLog = config.haproxyLog ? listenForRequests(config.haproxyLog, log) : undefined
    const control = haproxyTraffic({ socket, onChange: journal.record, ...(requestLog ? { log: requestLog } : {}) })
    return {
      control,
      target: socket,
      close: async () => {
        await journal.flush()
        await (await requestLog)?.close()
      },
    }
  }
  const paths = routerPaths(settings.stateDir)
  const adminUrl = request.adminUrl ?? readRunningFile(paths.running)?.adminUrl ?? `http://${config.adminHost}:${config.adminPort}`
  const token = config.token || readTokenFile(paths.token)
  if (!token)
    throw badInput(
      `No router admin token: neither OPSCTL_ROUTER_TOKEN / router.token nor ${paths.token}`,
      'Start the router first (opsctl router start writes the token file), or set OPSCTL_ROUTER_TOKEN.',
    )
  const control = routerClient({ adminUrl, token })
  return { control, target: adminUrl, close: () => control.close() }
}

/** Listens for HAProxy's request log on host:port; a port already taken is said, and the driver goes on with averages. */
function listenForRequests(target: string, log: (message: string) => void): Promise<HaproxyLogListener | undefined> {
  const at = target.lastIndexOf(':')
  const port = Number(target.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw badInput(`router.haproxyLog: "${target}" is not host:port`, 'e.g. 127.0.0.1:5514, as given to router haproxy-config --log.')
  return listenHaproxyLog({ host: target.slice(0, at), port }).catch((error: Error) => {
    log(`Cannot listen for HAProxy's request log on ${target} (${error.message}): latencies will be HAProxy's averages only.`)
    return undefined
  })
}

/** Journal events for traffic changes, written in order, one after another; errors go to `log`. */
export function journalRecorder(
  settings: Settings,
  engine: 'builtin' | 'haproxy',
  log: (message: string) => void,
): { record: (change: TrafficChange) => void; flush: () => Promise<void> } {
  let chain: Promise<void> = Promise.resolve()
  return {
    record(change) {
      const event = trafficEvent(change, engine)
      chain = chain.then(() =>
        recordEvent(settings, event).then(
          () => undefined,
          (error: Error) => log(`Cannot record ${event.kind} in the journal: ${error.message}`),
        ),
      )
    },
    flush: () => chain,
  }
}

export interface HaproxyConfigRequest {
  backends?: readonly string[] | undefined
  weights?: readonly string[] | undefined
  socket?: string | undefined
  bind: string
  pool: string
  stickyCookie?: string | undefined
  /** UDP host:port for the request log (raw latency samples). */
  logTarget?: string | undefined
}

/** `router haproxy-config`: the servers and weights from flags or router.backends/weights, checks from router.healthCheck. */
export function haproxyConfigFor(settings: Settings, request: HaproxyConfigRequest): { config: string; socket: string; pool: string } {
  const config = settings.config.router
  const texts = request.backends?.length ? request.backends : config.backends
  const source = request.backends?.length ? '--backend' : 'router.backends'
  const backends = (texts.length ? texts : ['stable=http://127.0.0.1:3001', 'canary=http://127.0.0.1:3002']).map((text) =>
    parseBackendSpec(text, source),
  )
  if (new Set(backends.map((backend) => backend.pool)).size > 1)
    throw badInput('The generated HAProxy configuration has one backend (pool): give servers without a pool/ prefix')
  const weightTexts = request.weights?.length ? request.weights : config.weights
  const weights = weightTexts.length ? parseWeightList(weightTexts, request.weights?.length ? '--weights' : 'router.weights') : undefined
  const topology = buildTopology({
    backends: backends.map((backend) => ({ ...backend, pool: request.pool })),
    ...(weights ? { weights } : {}),
  })
  const socket = request.socket ?? config.haproxySocket ?? '/run/haproxy/admin.sock'
  const check = config.healthCheck
  const text = haproxyConfig({
    socket,
    bind: request.bind,
    pool: request.pool,
    servers: topology.backends.map((backend) => ({
      name: backend.name,
      address: serverAddress(backend.url),
      weight: topology.weights[request.pool]![backend.name]!,
    })),
    healthPath: check.enabled ? check.path : undefined,
    checkIntervalMs: parseDuration(check.interval, 'router.healthCheck.interval'),
    rise: check.rise,
    fall: check.fall,
    stickyCookie: request.stickyCookie ?? config.stickyCookie,
    overrideHeader: config.overrideHeader,
    logTarget: request.logTarget ?? config.haproxyLog,
  })
  return { config: text, socket, pool: request.pool }
}
