// The live hook on a real pg Client and Pool against PostgreSQL (the local server, or the
// embedded database when none is reachable).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TraceFlags, context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  bindToUnitOfWork,
  createJsonLinesSink,
  createQueryRecorder,
  createUnitOfWork,
  findNPlusOne,
  instrumentPg,
  runInUnitOfWork,
  type PgInstrumentation,
} from '../../src/nplusone/index.js'
import { nameUnitOfWork } from '../../src/nplusone/live/unit-of-work.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

let database: TestDatabase
let pool: pg.Pool
let dir: string
let hook: PgInstrumentation | undefined
const recorder = createQueryRecorder()

beforeAll(async () => {
  database = await createTestDatabase('nplusone_live')
  dir = mkdtempSync(join(tmpdir(), 'opsctl-live-'))
  pool = new pg.Pool({ connectionString: database.url, max: 3 })
  await pool.query(
    'CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL); CREATE TABLE items (id serial PRIMARY KEY, order_id int NOT NULL, sku text NOT NULL)',
  )
  await pool.query(
    "INSERT INTO orders SELECT g, 1 + g % 2 FROM generate_series(1, 12) g; INSERT INTO items (order_id, sku) SELECT 1 + g % 12, 'SKU-' || g FROM generate_series(1, 60) g",
  )
})

afterAll(async () => {
  hook?.uninstall()
  await pool?.end()
  await database?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

afterEach(() => {
  hook?.uninstall()
  hook = undefined
  recorder.clear()
})

/** The classic N+1: the orders of a user, then the items of each order, one query at a time. */
async function listOrdersWithItems(userId: number): Promise<number> {
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM orders WHERE user_id = $1 ORDER BY id', [userId])
  let items = 0
  for (const order of rows)
    items += (await pool.query('SELECT id, sku FROM items WHERE order_id = $1 ORDER BY id', [order.id])).rowCount ?? 0
  return items
}

describe('instrumentPg', () => {
  it('records statements of a Pool with duration, rows, unit of work and call site', async () => {
    hook = instrumentPg(pg, { onExecution: recorder.onExecution })
    await runInUnitOfWork('GET /users/:id/orders', () => listOrdersWithItems(1))
    const executions = recorder.executions()
    expect(executions).toHaveLength(7)
    const items = executions[1]!
    expect(items).toMatchObject({
      sql: 'SELECT id, sku FROM items WHERE order_id = $1 ORDER BY id',
      unit: { kind: 'request', label: 'GET /users/:id/orders' },
    })
    expect(items.durationMs).toBeGreaterThan(0)
    expect(items.rows).toBe(5)
    expect(items.startMs).toBeGreaterThan(Date.UTC(2024, 0, 1))
    expect(items.callSite).toMatch(/^test\/nplusone\/live\.test\.ts:\d+:\d+ \(listOrdersWithItems\)$/)
    expect(items.params).toBeUndefined()

    const [pattern] = await recorder.patterns()
    expect(pattern).toMatchObject({
      executions: 6,
      units: 1,
      callSite: items.callSite,
      producer: { sql: 'SELECT id FROM orders WHERE user_id = $1 ORDER BY id' },
    })
  })

  it('keeps each request apart, even when queries wait for a pooled connection under Promise.all', async () => {
    hook = instrumentPg(pg, { onExecution: recorder.onExecution, params: true })
    // Three connections, three requests each firing six queries at once: most queries queue for a
    // connection that another request releases, so the pool calls them from that request's context.
    await Promise.all(
      [1, 2, 3].map((request) =>
        runInUnitOfWork(`request ${request}`, () =>
          Promise.all(Array.from({ length: 6 }, (_, i) => pool.query('SELECT pg_sleep(0.002), $1::int AS n', [request * 100 + i]))),
        ),
      ),
    )
    const executions = recorder.executions()
    expect(executions).toHaveLength(18)
    // The parameter says which request issued the query; the unit must say the same.
    for (const execution of executions) expect(execution.unit?.label).toBe(`request ${Math.floor(Number(execution.params![0]) / 100)}`)
    const patterns = await recorder.patterns()
    expect(patterns).toHaveLength(1)
    expect(patterns[0]).toMatchObject({ units: 3, executions: 18, maxPerUnit: 6 })
  })

  it('records a transaction on a checked-out client, with its repeats', async () => {
    hook = instrumentPg(pg, { onExecution: recorder.onExecution })
    await runInUnitOfWork('POST /orders', async () => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        for (let i = 0; i < 5; i++) await client.query('INSERT INTO items (order_id, sku) VALUES ($1, $2)', [1, `NEW-${i}`])
        await client.query('ROLLBACK')
      } finally {
        client.release()
      }
    })
    const [pattern, ...rest] = await recorder.patterns()
    expect(rest).toEqual([])
    expect(pattern).toMatchObject({ kind: 'insert', executions: 5, worstUnit: { label: 'POST /orders' } })
  })

  it('attributes the statements of a pool bound to a unit, concurrent requests and transactions included, without AsyncLocalStorage', async () => {
    hook = instrumentPg(pg, { onExecution: recorder.onExecution, params: true })
    const requests = [1, 2, 3].map((request) => ({ request, db: bindToUnitOfWork(pool, createUnitOfWork(`request ${request}`)) }))
    // Six queries per request at once on three connections: most wait for a connection another request releases.
    await Promise.all(
      requests.map(({ request, db }) =>
        Promise.all(Array.from({ length: 6 }, (_, i) => db.query('SELECT pg_sleep(0.002), $1::int AS n', [request * 100 + i]))),
      ),
    )
    // A transaction on a client from the bound pool, with the promise and the callback form of connect().
    const { db } = requests[0]!
    const client = await db.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT $1::int AS n', [100])
      await client.query('ROLLBACK')
    } finally {
      client.release()
    }
    await new Promise<void>((resolve, reject) =>
      db.connect((error, bound, release) => {
        if (error || !bound) return reject(error)
        bound.query('SELECT $1::int AS n', [101], (queryError) => {
          release()
          if (queryError) reject(queryError)
          else resolve()
        })
      }),
    )
    const executions = recorder.executions()
    expect(executions).toHaveLength(18 + 4)
    for (const execution of executions.filter((e) => e.params?.length))
      expect(execution.unit?.label).toBe(`request ${Math.floor(Number(execution.params![0]) / 100)}`)
    expect(executions.filter((e) => e.sql === 'BEGIN' || e.sql === 'ROLLBACK').map((e) => e.unit?.label)).toEqual([
      'request 1',
      'request 1',
    ])
    // The call site is the caller's line, not the bound pool's wrapper in the hook.
    for (const execution of executions) expect(execution.callSite).toMatch(/^test\/nplusone\/live\.test\.ts:\d+:\d+/)
    // Outside the bound pool, the same statements have no unit.
    await pool.query('SELECT 1')
    expect(recorder.executions().at(-1)!.unit).toBeUndefined()
  })

  it('records sampled units of work whole and the others not at all, even when their queries wait for a connection', async () => {
    hook = instrumentPg(pg, { onExecution: recorder.onExecution, params: true, unitSampleRate: 0.5 })
    // Draws below the rate are recorded; six requests of six concurrent queries on three connections.
    const draws = [0.1, 0.7, 0.2, 0.9, 0.49, 0.5]
    await Promise.all(
      draws.map((draw, request) => {
        const db = bindToUnitOfWork(pool, createUnitOfWork(`request ${request}`, { draw }))
        return Promise.all(Array.from({ length: 6 }, (_, i) => db.query('SELECT pg_sleep(0.001), $1::int AS n', [request * 100 + i])))
      }),
    )
    await runInUnitOfWork('async-context request', () => pool.query('SELECT 1'), { draw: 0.99 })
    await pool.query('SELECT 2') // outside any unit: always recorded
    const executions = recorder.executions()
    const perUnit = new Map<string, number>()
    for (const execution of executions)
      perUnit.set(execution.unit?.label ?? 'none', (perUnit.get(execution.unit?.label ?? 'none') ?? 0) + 1)
    expect(Object.fromEntries(perUnit)).toEqual({ 'request 0': 6, 'request 2': 6, 'request 4': 6, none: 1 })
    for (const execution of executions.filter((e) => e.params?.length))
      expect(execution.unit?.label).toBe(`request ${Math.floor(Number(execution.params![0]) / 100)}`)
    expect(() => instrumentPg(pg, { onExecution: () => {}, unitSampleRate: 1.5 })).toThrow(/unitSampleRate/)
  })

  it('uses the active OpenTelemetry trace when there is no unit of work, and the backend pid when there is neither', async () => {
    const manager = new AsyncLocalStorageContextManager().enable()
    context.setGlobalContextManager(manager)
    try {
      hook = instrumentPg(pg, { onExecution: recorder.onExecution })
      const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED }
      await context.with(trace.setSpan(context.active(), trace.wrapSpanContext(spanContext)), () => pool.query('SELECT 1'))
      await pool.query('SELECT 2')
      const [traced, bare] = recorder.executions()
      expect(traced!.unit).toMatchObject({ kind: 'trace', traceId: '0af7651916cd43dd8448eb211c80319c' })
      expect(bare!.unit).toBeUndefined()
      expect(bare!.session).toMatch(/^\d+$/)
    } finally {
      context.disable()
    }
  })

  it('records callback-style queries, failures with their SQLSTATE, and parameters only when asked', async () => {
    hook = instrumentPg(pg, { onExecution: recorder.onExecution, params: true })
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      await new Promise<void>((resolve, reject) =>
        client.query('SELECT $1::text AS v', ['secret'], (error) => (error ? reject(error) : resolve())),
      )
      await expect(client.query('SELECT * FROM no_such_table')).rejects.toThrow()
    } finally {
      await client.end()
    }
    const [ok, failed] = recorder.executions()
    expect(ok).toMatchObject({ sql: 'SELECT $1::text AS v', params: ['secret'], rows: 1 })
    expect(failed).toMatchObject({
      sql: 'SELECT * FROM no_such_table',
      errorCode: '42P01',
      error: expect.stringContaining('no_such_table'),
    })
  })

  it('labels the statements after a rename with the new name of the unit', async () => {
    hook = instrumentPg(pg, { onExecution: recorder.onExecution })
    const unit = createUnitOfWork('GET unmatched')
    const db = bindToUnitOfWork(pool, unit)
    await db.query('SELECT 1')
    await runInUnitOfWork('GET unmatched', async () => {
      nameUnitOfWork('GET /users/:id')
      await pool.query('SELECT 2')
    })
    unit.name = 'GET /orders/:id'
    await db.query('SELECT 3')
    expect(recorder.executions().map((e) => [e.sql, e.unit?.label])).toEqual([
      ['SELECT 1', 'GET unmatched'],
      ['SELECT 2', 'GET /users/:id'],
      ['SELECT 3', 'GET /orders/:id'],
    ])
  })

  it('stops recording once uninstalled', async () => {
    hook = instrumentPg(pg, { onExecution: recorder.onExecution })
    hook.uninstall()
    await pool.query('SELECT 1')
    expect(recorder.executions()).toEqual([])
  })

  it('writes a JSON-lines query log, without parameter values, that db nplusone reads', async () => {
    const path = join(dir, 'service', 'queries.jsonl')
    const sink = createJsonLinesSink(path)
    hook = instrumentPg(pg, { onExecution: sink.write, params: true })
    await runInUnitOfWork('GET /users/:id/orders', () => listOrdersWithItems(2))
    await sink.close()
    const text = readFileSync(path, 'utf8')
    expect(text.trim().split('\n')).toHaveLength(7)
    expect(text).not.toContain('"params"')
    const report = await findNPlusOne({ serviceLogs: [path] })
    expect(report.sources[0]).toMatchObject({ format: 'opsctl-jsonl', statements: 7, skipped: { lines: 0 } })
    expect(report.patterns[0]).toMatchObject({ executions: 6, worstUnit: { label: 'GET /users/:id/orders' } })
    expect(report.patterns[0]!.callSite).toContain('listOrdersWithItems')
  })
})
