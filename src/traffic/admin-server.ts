/**
 * The router's admin API: JSON over HTTP, on loopback by default, every request with
 * `Authorization: Bearer <token>` (compared in constant time). Bad requests get a 4xx with a
 * reason and change nothing. Prometheus scrapes /metrics with the same token.
 *
 *   GET  /v1/snapshot                       pools, backends, weights, states, health
 *   GET  /v1/stats                          counters, in-flight, latency percentiles
 *   GET  /v1/samples?since=ISO|window=30s&max=N   raw latency samples and counts for a window
 *   PUT  /v1/pools/:pool/weights            {"weights": {"stable": 90, "canary": 10}}
 *   PUT  /v1/backends/:name/state           {"state": "ready" | "drain" | "maint"}
 *   POST /v1/backends/:name/drain           {"timeoutMs": 30000, "noWait": false} -> DrainResult
 *   POST /v1/backends/:name/undrain
 *   GET  /metrics                           Prometheus text
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import { isOpsError, parseDuration, parseJsonText } from '../core/index.js'
import type { RouterEngine } from './engine.js'

const MAX_BODY_BYTES = 64 * 1024

const weightsBody = z.strictObject({ weights: z.record(z.string(), z.unknown()) })
const stateBody = z.strictObject({ state: z.enum(['ready', 'drain', 'maint']) })
const drainBody = z.strictObject({ timeoutMs: z.number().int().min(0).max(86_400_000).optional(), noWait: z.boolean().optional() })

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message)
  }
}

export function createAdminHandler(engine: RouterEngine, token: string): (request: IncomingMessage, response: ServerResponse) => void {
  const expected = createHash('sha256').update(token).digest()
  const authorized = (header: string | undefined): boolean => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
    // Digests of equal length, so the comparison takes the same time whatever was presented.
    const presented = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest()
    return timingSafeEqual(expected, presented) && match !== null
  }

  return (request, response) => {
    if (!authorized(request.headers.authorization)) {
      request.resume()
      return send(
        response,
        401,
        { error: { message: 'A valid admin token is required (Authorization: Bearer <token>)' } },
        { 'www-authenticate': 'Bearer' },
      )
    }
    route(engine, request)
      .then((result) =>
        typeof result === 'string'
          ? sendText(response, 200, result, 'text/plain; version=0.0.4; charset=utf-8')
          : send(response, 200, result),
      )
      .catch((error: Error) => {
        if (error instanceof HttpProblem) return send(response, error.status, { error: { message: error.message, hint: error.hint } })
        if (isOpsError(error)) return send(response, error.exit === 2 ? 400 : 503, { error: { message: error.message, hint: error.hint } })
        send(response, 500, { error: { message: `internal error: ${error.message}` } })
      })
  }
}

async function route(engine: RouterEngine, request: IncomingMessage): Promise<unknown> {
  const url = new URL(request.url ?? '/', 'http://admin.invalid')
  const method = request.method ?? 'GET'
  const parts = url.pathname.split('/').filter(Boolean).map(decodeSegment)
  const expect = (allowed: string) => {
    if (method !== allowed) throw new HttpProblem(405, `${method} ${url.pathname}: use ${allowed}`)
  }
  if (url.pathname === '/metrics') {
    expect('GET')
    return engine.prometheus()
  }
  if (parts[0] !== 'v1') throw new HttpProblem(404, `No such endpoint: ${url.pathname}`, 'See docs/traffic.md for the admin API.')
  const [, resource, name, action] = parts
  if (resource === 'snapshot' && parts.length === 2) {
    expect('GET')
    return engine.snapshot()
  }
  if (resource === 'stats' && parts.length === 2) {
    expect('GET')
    return engine.stats()
  }
  if (resource === 'samples' && parts.length === 2) {
    expect('GET')
    const since = url.searchParams.get('since') ?? undefined
    const window = url.searchParams.get('window') ?? undefined
    const max = url.searchParams.get('max') ?? undefined
    if (max !== undefined && !/^\d{1,7}$/.test(max)) throw new HttpProblem(400, `max: "${max}" is not a whole number`)
    return engine.samples({
      ...(since !== undefined ? { since: /^\d+$/.test(since) ? Number(since) : since } : {}),
      ...(window !== undefined ? { windowMs: parseDuration(window, 'window') } : {}),
      ...(max !== undefined ? { maxSamples: Number(max) } : {}),
    })
  }
  if (resource === 'pools' && name !== undefined && action === 'weights' && parts.length === 4) {
    expect('PUT')
    const body = checked(weightsBody, await readJson(request))
    return engine.setWeights(name, body.weights as Record<string, number>)
  }
  if (resource === 'backends' && name !== undefined && parts.length === 4) {
    if (action === 'state') {
      expect('PUT')
      return engine.setState(name, checked(stateBody, await readJson(request)).state)
    }
    if (action === 'drain') {
      expect('POST')
      const body = checked(drainBody, await readJson(request, true))
      return engine.drain(name, body)
    }
    if (action === 'undrain') {
      expect('POST')
      await readJson(request, true)
      return engine.undrain(name)
    }
  }
  throw new HttpProblem(404, `No such endpoint: ${method} ${url.pathname}`, 'See docs/traffic.md for the admin API.')
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new HttpProblem(400, `Bad path segment "${segment}"`)
  }
}

async function readJson(request: IncomingMessage, optional = false): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, `Request body over ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') {
    if (optional) return {}
    throw new HttpProblem(400, 'Request body is empty: a JSON object is expected')
  }
  try {
    return parseJsonText(text, { maxDepth: 16 }).value
  } catch (error) {
    throw new HttpProblem(400, `Request body is not JSON: ${(error as Error).message}`)
  }
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(response, status, `${JSON.stringify(body)}\n`, 'application/json; charset=utf-8', headers)
}

function sendText(response: ServerResponse, status: number, text: string, type: string, headers: Record<string, string> = {}): void {
  if (response.headersSent) return
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers })
  response.end(text)
}

/** A request body against its schema: a 400 naming the bad field. */
function checked<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  throw new HttpProblem(400, `Bad request body: ${issue.path.join('.') || '(root)'}: ${issue.message}`)
}
