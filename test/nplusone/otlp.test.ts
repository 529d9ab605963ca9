import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findNPlusOne, loadQueryParser, summarizeStatements } from '../../src/nplusone/index.js'

const ITEMS = 'SELECT id, sku FROM items WHERE order_id = $1'
const ORDERS = 'SELECT id FROM orders WHERE user_id = $1'

interface SpanSpec {
  trace?: string
  id: string
  parent?: string
  name: string
  kind?: number | string
  startMs: number
  durationMs?: number
  attributes?: Record<string, string | number>
  error?: string
}

let counter = 0
const BASE_NS = 1_714_550_400_000n * 1_000_000n

function span(spec: SpanSpec) {
  const start = BASE_NS + BigInt(Math.round(spec.startMs * 1e6))
  const end = start + BigInt(Math.round((spec.durationMs ?? 0.5) * 1e6))
  return {
    traceId: spec.trace ?? 'a'.repeat(32),
    spanId: spec.id.padStart(16, '0'),
    ...(spec.parent ? { parentSpanId: spec.parent.padStart(16, '0') } : {}),
    name: spec.name,
    kind: spec.kind ?? 1,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(end),
    attributes: Object.entries(spec.attributes ?? {}).map(([key, value]) => ({
      key,
      value: typeof value === 'number' ? { intValue: value } : { stringValue: value },
    })),
    status: spec.error ? { code: 2, message: spec.error } : { code: 0 },
  }
}

function query(sql: string, parent: string, startMs: number, extra: Partial<SpanSpec> = {}, conventions: 'old' | 'new' = 'old') {
  const attributes: Record<string, string> =
    conventions === 'old' ? { 'db.system': 'postgresql', 'db.statement': sql } : { 'db.system.name': 'postgresql', 'db.query.text': sql }
  return span({ id: `q${++counter}`, parent, name: `pg.query:${sql.split(' ')[0]}`, kind: 3, startMs, attributes, ...extra })
}

function request(id: string, route: string, startMs: number, trace?: string) {
  return span({ id, trace, name: `GET ${route}`, kind: 2, startMs, durationMs: 20, attributes: { 'http.route': route } })
}

function document(spans: unknown[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
        scopeSpans: [{ scope: { name: 'test' }, spans }],
      },
    ],
  }
}

let dir: string
beforeAll(async () => {
  await loadQueryParser()
  dir = mkdtempSync(join(tmpdir(), 'opsctl-otlp-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function write(name: string, content: unknown, pretty = false): string {
  const path = join(dir, name)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, pretty ? 2 : undefined))
  return path
}

describe('OTLP traces', () => {
  it('find an N+1 under one request span, with pool-connect spans between the queries', async () => {
    const spans = [request('r1', '/users/:id/orders', 0), query(ORDERS, 'r1', 1)]
    for (let i = 0; i < 6; i++) {
      spans.push(
        span({
          id: `c${i}`,
          parent: 'r1',
          name: 'pg-pool.connect',
          kind: 3,
          startMs: 2 + i * 2,
          attributes: { 'db.system': 'postgresql' },
        }),
      )
      spans.push(query(ITEMS, 'r1', 3 + i * 2))
    }
    const report = await findNPlusOne({ otlp: [write('pool.json', document(spans), true)] })
    expect(report.sources[0]).toMatchObject({ format: 'otlp-json', statements: 7, notes: { 'connection spans': 6 } })
    expect(report.patterns).toHaveLength(1)
    expect(report.patterns[0]).toMatchObject({
      sql: ITEMS,
      executions: 6,
      producer: { sql: ORDERS },
      worstUnit: { kind: 'trace', traceId: 'a'.repeat(32), label: 'GET /users/:id/orders' },
    })
  })

  it('find concurrent repeats (Promise.all): overlapping spans, written out of order', async () => {
    const spans = [request('r1', '/users/:id/orders', 0), query(ORDERS, 'r1', 1)]
    for (const i of [4, 1, 3, 0, 2, 5]) spans.push(query(ITEMS, 'r1', 2 + i * 0.01, { durationMs: 3 }))
    const report = await findNPlusOne({ otlp: [write('concurrent.json', document(spans.reverse()))] })
    expect(report.patterns.map((pattern) => [pattern.sql, pattern.executions, pattern.producer?.sql])).toEqual([[ITEMS, 6, ORDERS]])
  })

  it('roll spans the application opens per loop iteration up to the request', async () => {
    const spans = [request('r1', '/orders', 0, 'b'.repeat(32))].map((s) => ({ ...s, traceId: 'b'.repeat(32) }))
    for (let i = 0; i < 5; i++) {
      spans.push({ ...span({ id: `it${i}`, parent: 'r1', name: 'loadItems', startMs: 1 + i }), traceId: 'b'.repeat(32) })
      spans.push({ ...query(ITEMS, `it${i}`, 1.1 + i, {}, 'new'), traceId: 'b'.repeat(32) })
    }
    const report = await findNPlusOne({ otlp: [write('iterations.json', document(spans))] })
    expect(report.patterns).toHaveLength(1)
    expect(report.patterns[0]!.worstUnit.label).toBe('GET /orders')
  })

  it('do not flag a query run once by each of many requests in one trace', async () => {
    // A gateway trace that calls the service ten times: ten SERVER spans, one query each.
    const trace = 'c'.repeat(32)
    const spans = [{ ...span({ id: 'gw', name: 'batch job', kind: 'SPAN_KIND_INTERNAL', startMs: 0, durationMs: 100 }), traceId: trace }]
    for (let i = 0; i < 10; i++) {
      spans.push({
        ...span({ id: `s${i}`, parent: 'gw', name: 'GET /users/:id', kind: 'SPAN_KIND_SERVER', startMs: i * 10 }),
        traceId: trace,
      })
      spans.push({ ...query('SELECT * FROM users WHERE id = $1', `s${i}`, i * 10 + 1), traceId: trace })
    }
    const report = await findNPlusOne({ otlp: [write('gateway.json', document(spans))] })
    expect(report.patterns).toEqual([])
    expect(report.totals.units).toBe(10)
  })

  it('read the Collector file exporter: one request per line, failed spans to db top only', async () => {
    const lines = Array.from({ length: 3 }, (_, r) => {
      const trace = String(r + 1).repeat(32)
      const spans = [request(`r${r}`, '/users/:id/orders', r * 100, trace)].map((s) => ({ ...s, traceId: trace }))
      for (let i = 0; i < 5; i++) spans.push({ ...query(ITEMS, `r${r}`, r * 100 + i + 1), traceId: trace })
      spans.push({ ...query('SELECT * FROM nope', `r${r}`, r * 100 + 9, { error: 'relation "nope" does not exist' }), traceId: trace })
      return JSON.stringify(document(spans))
    })
    const path = write('collector.jsonl', `${lines.join('\n')}\n`)
    const report = await findNPlusOne({ otlp: [path] })
    expect(report.sources[0]).toMatchObject({ format: 'otlp-jsonl', statements: 15, errors: 3, notes: { traces: 3 } })
    expect(report.patterns[0]).toMatchObject({ units: 3, executions: 15 })
    const top = await summarizeStatements({ otlp: [path] })
    expect(top.errors).toEqual([{ message: 'relation "nope" does not exist', count: 3, sql: 'SELECT * FROM nope' }])
  })

  it('feed each trace once it has gone quiet, so that a long file streams through, and count spans that come later', async () => {
    // 3,000 requests, one a second for 50 minutes of span time, each with its own N+1; then a
    // straggler: two more queries of the first trace, 50 minutes after it was fed.
    const lines: string[] = []
    for (let r = 0; r < 3000; r++) {
      const trace = r.toString(16).padStart(32, '0')
      const spans = [{ ...request(`r${r}`, '/users/:id/orders', r * 1000), traceId: trace }]
      for (let i = 0; i < 5; i++) spans.push({ ...query(ITEMS, `r${r}`, r * 1000 + i + 1), traceId: trace })
      lines.push(JSON.stringify(document(spans)))
    }
    const first = '0'.repeat(32)
    lines.push(JSON.stringify(document([0, 1].map((i) => ({ ...query(ORDERS, 'r0', 3_000_000 + i), traceId: first })))))
    const report = await findNPlusOne({ otlp: [write('long.jsonl', `${lines.join('\n')}\n`)] })
    expect(report.patterns).toHaveLength(1)
    expect(report.patterns[0]).toMatchObject({ units: 3000, executions: 15_000 })
    expect(report.sources[0]!.notes).toMatchObject({ traces: 3000, 'spans after their trace was fed (a unit of their own)': 1 })
  })

  it('take the call site from code attributes', async () => {
    const spans = [request('r1', '/x', 0)]
    for (let i = 0; i < 5; i++)
      spans.push(
        query(ITEMS, 'r1', 1 + i, {
          attributes: {
            'db.system': 'postgresql',
            'db.statement': ITEMS,
            'code.filepath': 'app/orders.py',
            'code.lineno': 42,
            'code.function': 'list_orders',
          },
        }),
      )
    const report = await findNPlusOne({ otlp: [write('code.json', document(spans))] })
    expect(report.patterns[0]!.callSite).toBe('app/orders.py:42 (list_orders)')
  })
})
