/**
 * `TrafficControl` over the built-in router's admin API: what `opsctl router status|set-weight|
 * drain|undrain` and the deploy module use to drive a running router. A 4xx answer becomes bad
 * input (exit 2) with the router's reason; no answer becomes an environment error (exit 3).
 */
import { Client } from 'undici'
import { OpsError, ExitCode, badInput, environmentError } from '../core/index.js'
import type {
  AdminState,
  BackendStats,
  DrainOptions,
  DrainResult,
  SampleRequest,
  SampleWindow,
  TrafficControl,
  TrafficSnapshot,
} from './control.js'

export interface RouterClientOptions {
  /** http://127.0.0.1:PORT of the admin API. */
  adminUrl: string
  token: string
  /** Per call (drains wait longer: their own timeout plus this). Default 10000 ms. */
  timeoutMs?: number
}

export function routerClient(options: RouterClientOptions): TrafficControl & { prometheus(): Promise<string> } {
  let origin: URL
  try {
    origin = new URL(options.adminUrl)
  } catch {
    throw badInput(`Admin URL "${options.adminUrl}" is not a URL`)
  }
  const client = new Client(origin.origin, { keepAliveTimeout: 5000 })
  const timeoutMs = options.timeoutMs ?? 10_000

  async function call<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown, extraMs = 0): Promise<T> {
    let answer
    try {
      answer = await client.request({
        method,
        path,
        headers: { authorization: `Bearer ${options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
        headersTimeout: timeoutMs + extraMs,
        bodyTimeout: timeoutMs + extraMs,
      })
    } catch (error) {
      const code = (error as { code?: string }).code
      throw environmentError(
        `The router's admin API at ${origin.origin} did not answer: ${code ?? (error as Error).message}`,
        'Is `opsctl router start` running? It prints its admin URL.',
      )
    }
    const text = await answer.body.text()
    if (answer.statusCode === 200) return (path === '/metrics' ? text : JSON.parse(text)) as T
    let reason = text.trim()
    let hint: string | undefined
    try {
      const parsed = JSON.parse(text) as { error?: { message?: string; hint?: string } }
      reason = parsed.error?.message ?? reason
      hint = parsed.error?.hint
    } catch {
      // not JSON: keep the text
    }
    if (answer.statusCode === 401)
      throw badInput(`The router refused the admin token: ${reason}`, 'Use the token in .opsctl/router/token, or set OPSCTL_ROUTER_TOKEN.')
    if (answer.statusCode < 500) throw new OpsError(reason, { exit: ExitCode.BadInput, hint })
    throw environmentError(`The router failed: ${reason}`, hint)
  }

  const backendPath = (name: string, action: string) => `/v1/backends/${encodeURIComponent(name)}/${action}`

  return {
    engine: 'builtin',
    snapshot: () => call<TrafficSnapshot>('GET', '/v1/snapshot'),
    setWeights: (pool, weights) => call<TrafficSnapshot>('PUT', `/v1/pools/${encodeURIComponent(pool)}/weights`, { weights }),
    drain: (backend, drainOptions: DrainOptions = {}) =>
      call<DrainResult>(
        'POST',
        backendPath(backend, 'drain'),
        drainOptions,
        drainOptions.noWait ? 0 : (drainOptions.timeoutMs ?? 30_000) + 5000,
      ),
    undrain: (backend) => call<TrafficSnapshot>('POST', backendPath(backend, 'undrain')),
    setState: (backend, state: AdminState) => call<TrafficSnapshot>('PUT', backendPath(backend, 'state'), { state }),
    stats: () => call<BackendStats[]>('GET', '/v1/stats'),
    samples: (request: SampleRequest) => {
      const query = new URLSearchParams()
      if (request.since !== undefined) query.set('since', String(request.since))
      if (request.windowMs !== undefined) query.set('window', `${Math.round(request.windowMs)}ms`)
      if (request.maxSamples !== undefined) query.set('max', String(request.maxSamples))
      return call<SampleWindow>('GET', `/v1/samples?${query.toString()}`)
    },
    prometheus: () => call<string>('GET', '/metrics'),
    close: () => client.close(),
  }
}
