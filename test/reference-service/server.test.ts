import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import autocannon from 'autocannon'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { waitFor } from '../helpers/wait.js'
import { seededPool, startServerProcess } from './support.js'

/**
 * The real entry point as a child process: what `opsctl demo`, load tests and deploys run.
 * One database, seeded once (scale 0.01); each test starts its own process.
 */
let database: TestDatabase
let pool: pg.Pool

beforeAll(async () => {
  database = await createTestDatabase('refsvc_server')
  pool = await seededPool(database.url)
})

afterAll(async () => {
  await pool?.end()
  await database?.drop()
})

describe('server process', () => {
  it('migrates and seeds at start, prints the listening line, serves, and exits 0 on SIGTERM', async () => {
    const fresh = await createTestDatabase('refsvc_server_seed')
    try {
      const server = await startServerProcess({ DATABASE_URL: fresh.url, MIGRATE: '1', SEED: '1', SEED_SCALE: '0.01', LOG_LEVEL: 'silent' })
      const listening = server.logs.find((entry) => entry.msg === 'listening')!
      expect(listening).toMatchObject({
        level: 30,
        msg: 'listening',
        url: `http://127.0.0.1:${server.port}`,
        host: '127.0.0.1',
        version: '1.0.0',
      })
      expect(server.port).toBeGreaterThan(0)
      // LOG_LEVEL=silent silences everything but the listening line, which a parent needs.
      expect(server.logs).toHaveLength(1)
      const response = await fetch(`${server.url}/version`)
      expect(response.headers.get('x-version')).toBe('1.0.0')
      expect(await response.json()).toEqual({ version: '1.0.0' })
      expect((await fetch(`${server.url}/users/1/orders`)).status).toBe(200)
      server.child.kill('SIGTERM')
      expect(await server.closed).toEqual({ code: 0, signal: null })
    } finally {
      await fresh.drop()
    }
  })

  it('never prints the database password', async () => {
    const url = new URL(database.url)
    url.password = 'hunter2-secret'
    const server = await startServerProcess({ DATABASE_URL: url.toString(), LOG_LEVEL: 'debug' })
    await fetch(`${server.url}/users/1/orders`)
    server.child.kill('SIGINT')
    expect((await server.closed).code).toBe(0)
    expect(JSON.stringify(server.logs)).not.toContain('hunter2-secret')
  })

  it('exits 2 with the variable named when a setting is invalid', async () => {
    await expect(startServerProcess({ DATABASE_URL: database.url, FAULT_ERROR_RATE: 'lots' })).rejects.toThrow(
      /exited with 2[\s\S]*FAULT_ERROR_RATE=lots/,
    )
  })

  it('lets a request in flight at SIGTERM finish with 200 before exiting 0', async () => {
    // Every request is held 1 s by fault injection, so it is surely in flight at SIGTERM.
    const server = await startServerProcess({ DATABASE_URL: database.url, FAULT_LATENCY_MS: '1000', LOG_LEVEL: 'info' })
    const inFlight = fetch(`${server.url}/users/1/orders`)
    await server.waitForLog((entry) => entry.msg === 'incoming request')
    server.child.kill('SIGTERM')
    await server.waitForLog((entry) => entry.msg === 'draining in-flight requests before exit')
    const response = await inFlight
    expect(response.status).toBe(200)
    expect(((await response.json()) as { userId: number }).userId).toBe(1)
    expect(await server.closed).toEqual({ code: 0, signal: null })
  })

  it('drains under load: every accepted request gets a complete 2xx response, then exit 0', async () => {
    const server = await startServerProcess({ DATABASE_URL: database.url, LOG_LEVEL: 'info' })
    let sigtermAt = Number.POSITIVE_INFINITY
    const responses: Array<{ status: number; at: number }> = []
    const errors: Array<{ code: string; at: number }> = []
    let finish!: (summary: autocannon.Result) => void
    const result = new Promise<autocannon.Result>((resolve) => (finish = resolve))
    // Longer than the test needs: it is stopped once the server has gone.
    const load = autocannon({ url: `${server.url}/users/1/orders`, connections: 50, duration: 60 }, (_error, summary) => finish(summary))
    load.on('response', (_client, status) => responses.push({ status, at: performance.now() }))
    load.on('reqError', (error: NodeJS.ErrnoException) => errors.push({ code: error.code ?? error.message, at: performance.now() }))

    // SIGTERM once the server is serving under load, not after a fixed time: on a busy CI machine
    // a fresh process answered nothing in its first second.
    await waitFor(() => responses.length >= 200, 30_000, 'the server to answer 200 requests under load')
    sigtermAt = performance.now()
    server.child.kill('SIGTERM')
    const exit = await server.closed
    // Responses the server finished are already in our socket buffers; let autocannon read them.
    await new Promise((resolve) => setTimeout(resolve, 300))
    load.stop()
    const summary = await result

    expect(exit).toEqual({ code: 0, signal: null })
    expect(summary.non2xx).toBe(0)
    expect(summary.timeouts).toBe(0)
    expect(responses.filter((response) => response.at < sigtermAt).length).toBeGreaterThan(0)
    // Requests in flight at SIGTERM were finished, not dropped.
    expect(responses.filter((response) => response.at > sigtermAt).length).toBeGreaterThan(0)
    // After the listener closed, new connections are refused and idle keep-alive sockets are
    // closed under a client that may be writing: those are the only errors allowed.
    expect(errors.filter((error) => error.at < sigtermAt)).toEqual([])
    expect(errors.filter((error) => !['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(error.code))).toEqual([])

    // Server side: every request it started was completed, and the client received every one.
    const started = server.logs.filter((entry) => entry.msg === 'incoming request').length
    const completed = server.logs.filter((entry) => entry.msg === 'request completed')
    expect(completed.length).toBe(started)
    expect(completed.every((entry) => (entry.res as { statusCode: number }).statusCode === 200)).toBe(true)
    expect(responses.length).toBe(completed.length)
  })
})

describe('tracing', () => {
  let receiver: Server
  let endpoint: string
  const exports: unknown[] = []

  beforeAll(async () => {
    receiver = createServer((request: IncomingMessage, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () => {
        if (request.url === '/v1/traces') exports.push(JSON.parse(body))
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>((resolve) => receiver?.close(() => resolve())))

  it('exports a server span per request with the pg query spans inside it over OTLP/HTTP', async () => {
    const server = await startServerProcess({
      DATABASE_URL: database.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    })
    expect(server.logs.find((entry) => entry.msg === 'listening')?.tracing).toBe(true)
    expect((await fetch(`${server.url}/users/1/orders`)).status).toBe(200)
    server.child.kill('SIGTERM') // shutdown flushes the batch of spans
    expect((await server.closed).code).toBe(0)

    const spans = collectSpans(exports)
    const serverSpan = spans.find((span) => span.kind === 2 && span.attributes['http.target'] === '/users/1/orders')
    expect(serverSpan).toBeDefined()
    const queries = spans.filter(
      (span) =>
        span.attributes['db.system'] === 'postgresql' && String(span.attributes['db.statement']).includes('FROM items WHERE order_id = $1'),
    )
    expect(queries.length).toBeGreaterThan(0)
    expect(queries.every((span) => span.traceId === serverSpan!.traceId)).toBe(true)
    expect(spans.find((span) => span.resource['service.name'] === 'reference-service')).toBeDefined()
  })
})

interface FlatSpan {
  traceId: string
  kind: number
  name: string
  attributes: Record<string, unknown>
  resource: Record<string, unknown>
}

type OtlpAttribute = { key: string; value: Record<string, unknown> }

/** OTLP/JSON export requests -> spans with plain attribute maps. */
function collectSpans(requests: unknown[]): FlatSpan[] {
  const attributes = (list: OtlpAttribute[] = []) =>
    Object.fromEntries(list.map((attribute) => [attribute.key, Object.values(attribute.value)[0]]))
  const spans: FlatSpan[] = []
  for (const request of requests as Array<{
    resourceSpans: Array<{
      resource: { attributes: OtlpAttribute[] }
      scopeSpans: Array<{ spans: Array<FlatSpan & { attributes: OtlpAttribute[] }> }>
    }>
  }>) {
    for (const resourceSpans of request.resourceSpans) {
      for (const scope of resourceSpans.scopeSpans) {
        for (const span of scope.spans) {
          spans.push({
            traceId: span.traceId,
            kind: span.kind,
            name: span.name,
            attributes: attributes(span.attributes),
            resource: attributes(resourceSpans.resource.attributes),
          })
        }
      }
    }
  }
  return spans
}
