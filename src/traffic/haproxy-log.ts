/**
 * Raw latency samples from HAProxy, which its runtime API does not have: HAProxy logs every
 * request over syslog (UDP on loopback) in a format of ours, and this listener keeps them in the
 * same bounded per-epoch reservoirs as the built-in router (samples.ts). The HAProxy driver then
 * answers `samples()` with real per-request latencies (HAProxy's %Ta: from the request received to
 * the end of the answer, whole milliseconds).
 *
 * HAProxy side (what `opsctl router haproxy-config --log 127.0.0.1:5514` writes):
 *   global:   log 127.0.0.1:5514 local0 info
 *   defaults: log global
 *             log-format "opsctl %b %s %ST %Ta %Tc %Tr"
 */
import { createSocket, type Socket } from 'node:dgram'
import { environmentError } from '../core/index.js'
import { CONNECTION_OUTCOME, outcomeIndex } from './control.js'
import { DEFAULT_SAMPLE_OPTIONS, SampleStore, type CollectedWindow, type SampleStoreOptions } from './samples.js'

export const HAPROXY_LOG_FORMAT = 'opsctl %b %s %ST %Ta %Tc %Tr'
const MARKER = 'opsctl '

export interface HaproxyLogEntry {
  pool: string
  server: string
  status: number
  latencyMs: number
  /** 0–3 status classes, 4 = no answer from a server (connect or response failure). */
  outcome: number
}

/** One syslog datagram -> the request it logs, or undefined when it is not one of ours. */
export function parseHaproxyLogLine(text: string): HaproxyLogEntry | undefined {
  const at = text.indexOf(MARKER)
  if (at === -1) return undefined
  const fields = text
    .slice(at + MARKER.length)
    .trim()
    .split(/\s+/)
  if (fields.length < 6) return undefined
  const [pool, server, statusText, activeText, connectText, responseText] = fields as [string, string, string, string, string, string]
  const status = Number(statusText)
  const active = Number(activeText)
  const connect = Number(connectText)
  const response = Number(responseText)
  if (![status, active, connect, response].every(Number.isFinite)) return undefined
  // No server was reached (<NOSRV>): not a backend's request.
  if (server.startsWith('<')) return undefined
  const answered = connect >= 0 && response >= 0 && status > 0
  return { pool, server, status, latencyMs: Math.max(0, active), outcome: answered ? outcomeIndex(status) : CONNECTION_OUTCOME }
}

export interface HaproxyLogListener {
  host: string
  port: number
  /** When it started listening (epoch ms): windows cannot reach before it. */
  startedAt: number
  /** Datagrams read, and those that were not a request of ours. */
  received: number
  skipped: number
  /** What was logged for `pool/server` between the two times. */
  collect(key: string, fromMs: number, toMs: number, maxSamples?: number): CollectedWindow | undefined
  close(): Promise<void>
}

export interface HaproxyLogOptions {
  host?: string
  /** 0 picks a free port. */
  port: number
  samples?: Partial<SampleStoreOptions>
  now?: () => number
}

export async function listenHaproxyLog(options: HaproxyLogOptions): Promise<HaproxyLogListener> {
  const now = options.now ?? Date.now
  const host = options.host ?? '127.0.0.1'
  const sampleOptions = { ...DEFAULT_SAMPLE_OPTIONS, ...options.samples }
  const stores = new Map<string, SampleStore>()
  const socket: Socket = createSocket('udp4')
  const listener: HaproxyLogListener = {
    host,
    port: 0,
    startedAt: now(),
    received: 0,
    skipped: 0,
    collect(key, fromMs, toMs, maxSamples) {
      return stores.get(key)?.collect(Math.max(fromMs, listener.startedAt), toMs, maxSamples)
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
  socket.on('message', (message: Buffer) => {
    listener.received++
    const entry = parseHaproxyLogLine(message.toString('latin1'))
    if (!entry) {
      listener.skipped++
      return
    }
    const key = `${entry.pool}/${entry.server}`
    let store = stores.get(key)
    if (!store) stores.set(key, (store = new SampleStore(sampleOptions)))
    store.record(now(), entry.latencyMs, entry.outcome)
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (error: Error & { code?: string }) =>
      reject(environmentError(`Cannot listen for HAProxy's logs on udp ${host}:${options.port}: ${error.code ?? error.message}`)),
    )
    socket.bind(options.port, host, () => resolve())
  })
  listener.port = socket.address().port
  return listener
}
