/**
 * The built-in router's request path: an HTTP/1.1 reverse proxy on node:http in front of undici
 * pools. Per request: one pass over the raw headers (hop-by-hop ones dropped, the override,
 * sticky header and cookie picked out), the route, the backend, one undici dispatch whose handler
 * streams the answer back with backpressure. No per-request closures or logging; the handler
 * object is the one allocation of our own.
 *
 * A request the chosen backend refused before answering (connection refused or reset before any
 * byte of an answer) is sent once to another backend of the pool when it is safe to repeat: GET,
 * HEAD or OPTIONS without a body. That is why a backend that dies loses only the requests it was
 * working on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { CONNECTION_OUTCOME, outcomeIndex } from './control.js'
import type { BackendRuntime, PoolRuntime, RouterEngine } from './engine.js'
import { hashString } from './selection.js'

export interface ProxyOptions {
  /** Header that names a backend and wins over weights and stickiness (default x-opsctl-route). */
  overrideHeader: string
  /** Hash this header (a user id) to pick the backend: the same user keeps the same backend. */
  stickyHeader?: string | undefined
  /** Keep each client on its backend with this cookie (set on the first answer). */
  stickyCookie?: string | undefined
  /** Add x-opsctl-backend: <name> to answers (for testers; default true). */
  exposeBackend: boolean
}

// Hop-by-hop headers (RFC 9110, 7.6.1), and expect: node:http has already answered 100-continue, and undici refuses it.
const HOP_BY_HOP = new Set([
  'expect',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
  'http2-settings',
])
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT'])
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])
const kExchange = Symbol('opsctl.exchange')

type ProxiedResponse = ServerResponse & { [kExchange]?: Exchange }

export function createProxyHandler(
  engine: RouterEngine,
  options: ProxyOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const override = options.overrideHeader.toLowerCase()
  const stickyHeader = options.stickyHeader?.toLowerCase()
  const stickyCookie = options.stickyCookie
  const cookiePrefix = stickyCookie ? `${stickyCookie}=` : undefined

  return function proxyRequest(request: IncomingMessage, response: ServerResponse): void {
    const url = request.url ?? '/'
    const pool = engine.routes.match(url)
    const raw = request.rawHeaders
    const headers: string[] = []
    let overrideName: string | undefined
    let stickyKey: string | undefined
    let cookieBackend: string | undefined
    let forwardedFor: string | undefined
    let hasBody = false
    for (let index = 0; index < raw.length; index += 2) {
      const name = raw[index]!
      const value = raw[index + 1]!
      const lower = name.toLowerCase()
      if (HOP_BY_HOP.has(lower)) {
        if (lower === 'transfer-encoding') hasBody = true
        continue
      }
      if (lower === 'content-length') hasBody = value !== '0'
      else if (lower === override) overrideName = value.trim()
      else if (lower === 'x-forwarded-for') {
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`
        continue
      }
      if (stickyHeader !== undefined && lower === stickyHeader) stickyKey = value
      else if (cookiePrefix !== undefined && lower === 'cookie') cookieBackend = cookieValue(value, cookiePrefix) ?? cookieBackend
      headers.push(name, value)
    }
    const client = request.socket.remoteAddress ?? ''
    headers.push('x-forwarded-for', forwardedFor === undefined ? client : `${forwardedFor}, ${client}`)

    const selector = pool.selector
    let index: number
    let setCookie = false
    if (overrideName !== undefined && overrideName !== '') {
      index = selector.indexOf(overrideName)
      if (index === -1 || !selector.isAvailable(index)) {
        const reason =
          index === -1
            ? `no backend "${overrideName}" in pool ${pool.name}`
            : `backend ${overrideName} is ${describeUnavailable(pool.backends[index]!)}`
        return refuse(response, 503, `opsctl router: ${override} asked for ${reason}\n`)
      }
    } else if (stickyKey !== undefined && stickyKey !== '') {
      index = selector.pickHashed(hashString(stickyKey))
    } else {
      index = cookieBackend === undefined ? -1 : selector.indexOf(cookieBackend)
      if (index === -1 || !selector.isEligible(index)) {
        index = selector.pickWeighted()
        setCookie = stickyCookie !== undefined
      }
    }
    if (index === -1) return refuse(response, 503, `opsctl router: no backend of pool ${pool.name} is taking requests\n`)

    const exchange = new Exchange(request, response, pool, pool.backends[index]!, headers, hasBody, options, engine)
    if (setCookie) exchange.cookie = `${stickyCookie}=${exchange.backend.name}; Path=/; HttpOnly; SameSite=Lax`
    ;(response as ProxiedResponse)[kExchange] = exchange
    response.on('close', onResponseClose)
    exchange.send()
  }
}

function onResponseClose(this: ProxiedResponse): void {
  this[kExchange]?.clientClosed()
}

function describeUnavailable(backend: BackendRuntime): string {
  if (backend.state !== 'ready') return `in ${backend.state}`
  return `down (${backend.health.reason ?? 'failing'})`
}

function refuse(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

/** `a=1; opsctl_route=canary; b=2` -> `canary` */
function cookieValue(header: string, prefix: string): string | undefined {
  let at = header.indexOf(prefix)
  while (at !== -1) {
    if (at === 0 || header.charCodeAt(at - 1) === 32 || header.charCodeAt(at - 1) === 59) {
      const start = at + prefix.length
      const end = header.indexOf(';', start)
      return header.slice(start, end === -1 ? undefined : end).trim()
    }
    at = header.indexOf(prefix, at + 1)
  }
  return undefined
}

/** One request's trip to a backend: undici's dispatch handler (the raw, allocation-light form). */
class Exchange implements Dispatcher.DispatchHandler {
  cookie: string | undefined
  private startedAt = 0
  private status = 0
  private abortUpstream: ((reason?: Error) => void) | undefined
  private clientGone = false
  private retried = false
  private resumeUpstream: (() => void) | undefined

  constructor(
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly pool: PoolRuntime,
    public backend: BackendRuntime,
    private readonly headers: string[],
    private readonly hasBody: boolean,
    private readonly options: ProxyOptions,
    private readonly engine: RouterEngine,
  ) {}

  send(): void {
    this.status = 0
    this.backend.metrics.started()
    this.startedAt = performance.now()
    this.backend.dispatcher.dispatch(
      {
        path: this.request.url ?? '/',
        method: this.request.method as Dispatcher.HttpMethod,
        headers: this.headers,
        body: this.hasBody ? this.request : null,
      },
      this,
    )
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abortUpstream = abort
    if (this.clientGone) abort(new Error('client closed the connection'))
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.status = statusCode
    const pairs: Array<[string, string]> = []
    for (let index = 0; index < rawHeaders.length; index += 2) {
      const name = rawHeaders[index]!.toString('latin1')
      if (HOP_BY_HOP.has(name.toLowerCase())) continue
      pairs.push([name, rawHeaders[index + 1]!.toString('latin1')])
    }
    if (this.options.exposeBackend) pairs.push(['x-opsctl-backend', this.backend.name])
    if (this.cookie !== undefined) pairs.push(['set-cookie', this.cookie])
    this.resumeUpstream = resume
    try {
      this.response.sendDate = false
      this.response.writeHead(statusCode, pairs)
      return true
    } catch (error) {
      // A header node:http refuses to send (invalid characters): answer 502 rather than crash.
      this.clientGone = true
      refuse(this.response, 502, `opsctl router: backend ${this.backend.name} sent an invalid header: ${(error as Error).message}\n`)
      this.done(performance.now(), CONNECTION_OUTCOME)
      this.abortUpstream?.(error as Error)
      return false
    }
  }

  onData(chunk: Buffer): boolean {
    if (this.response.write(chunk)) return true
    this.response.once('drain', this.resumeUpstream!)
    return false
  }

  onComplete(): void {
    const now = performance.now()
    this.response.end()
    this.done(now, outcomeIndex(this.status))
    this.backend.healthSignal(this.backend.health.answered(this.engine.now(), this.status))
  }

  onError(error: Error & { code?: string }): void {
    const now = performance.now()
    const response = this.response
    if (this.clientGone) {
      // Not the backend's failure: the client left before the answer was complete.
      if (this.startedAt !== 0) this.backend.metrics.abandoned()
      this.startedAt = 0
      return
    }
    if (this.startedAt === 0) return // already answered (an invalid header, say): nothing more to tell the client
    const code = error.code ?? ''
    if (this.status === 0 && !response.headersSent) {
      const backend = this.backend
      backend.healthSignal(backend.health.connectionFailed(this.engine.now(), code || error.message))
      if (!this.retried && !this.hasBody && RETRYABLE_CODES.has(code) && RETRYABLE_METHODS.has(this.request.method ?? '')) {
        const selector = this.pool.selector
        const next = selector.pickWeighted(backend.index)
        if (next !== -1) {
          this.retried = true
          backend.metrics.retriedElsewhere(this.engine.now())
          this.backend = this.pool.backends[next]!
          if (this.cookie !== undefined) this.cookie = this.cookie.replace(/=[^;]*/, `=${this.backend.name}`)
          this.send()
          return
        }
      }
      const timeout = TIMEOUT_CODES.has(code)
      refuse(
        response,
        timeout ? 504 : 502,
        `opsctl router: backend ${backend.name} ${timeout ? 'timed out' : 'failed'}: ${code || error.message}\n`,
      )
    } else {
      // The answer broke off halfway: the client must not take it for a whole one.
      response.destroy(error)
    }
    this.done(now, CONNECTION_OUTCOME)
  }

  /** The client went away: stop the upstream request too. */
  clientClosed(): void {
    if (this.startedAt === 0) return
    this.clientGone = true
    this.abortUpstream?.(new Error('client closed the connection'))
  }

  private done(now: number, outcome: number): void {
    if (this.startedAt === 0) return
    const latency = now - this.startedAt
    this.startedAt = 0
    this.backend.metrics.finish(this.engine.now(), latency, outcome)
  }
}
