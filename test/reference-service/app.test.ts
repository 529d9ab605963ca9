import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import pgModule from 'pg'
import type pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp, envFlagProvider, migrate, seed, type AppOptions } from '../../reference-service/src/index.js'
import { createQueryRecorder, instrumentPg, type QueryExecution } from '../../src/nplusone/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { recordingPool } from './support.js'

let database: TestDatabase
let pool: pg.Pool
let statements: string[]
const apps: FastifyInstance[] = []

function app(options: Partial<AppOptions> = {}): FastifyInstance {
  const instance = buildApp({ pool, flags: envFlagProvider({}), version: '1.2.3', ...options })
  apps.push(instance)
  return instance
}

async function rowCounts(): Promise<{ orders: number; items: number }> {
  const { rows } = await pool.query<{ orders: number; items: number }>(
    'SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM items) AS items',
  )
  return rows[0]!
}

const itemsQueries = () => statements.filter((sql) => /\bFROM items\b/i.test(sql))

beforeAll(async () => {
  database = await createTestDatabase('refsvc_app')
  ;({ pool, statements } = recordingPool(database.url))
  await migrate(pool)
  await seed(pool, { scale: 0.01 })
})

afterAll(async () => {
  await Promise.all(apps.map((instance) => instance.close()))
  await pool?.end()
  await database?.drop()
})

beforeEach(() => {
  statements.length = 0
})

describe('GET /users/:id/orders', () => {
  let userId: number
  let orderCount: number

  beforeAll(async () => {
    const { rows } = await pool.query<{ user_id: number; orders: number }>(
      'SELECT user_id, count(*)::int AS orders FROM orders GROUP BY user_id HAVING count(*) >= 3 ORDER BY user_id LIMIT 1',
    )
    userId = rows[0]!.user_id
    orderCount = rows[0]!.orders
  })

  it('returns the orders with their items, one items query per order (the N+1)', async () => {
    const response = await app().inject(`/users/${userId}/orders`)
    expect(response.statusCode).toBe(200)
    const body = response.json<{ userId: number; orders: Array<{ userId: number; items: Array<{ sku: string }> }> }>()
    expect(body.userId).toBe(userId)
    expect(body.orders).toHaveLength(orderCount)
    expect(body.orders.every((order) => order.userId === userId && order.items.length > 0)).toBe(true)
    expect(itemsQueries()).toHaveLength(orderCount)
    expect(itemsQueries().every((sql) => sql.includes('WHERE order_id = $1'))).toBe(true)
  })

  it('loads all items in one batched query when orders.eager-loading is on, with the same answer', async () => {
    const lazy = (await app().inject(`/users/${userId}/orders`)).json()
    statements.length = 0
    const eager = await app({ flags: envFlagProvider({ OPSCTL_FLAGS: 'orders.eager-loading' }) }).inject(`/users/${userId}/orders`)
    expect(eager.json()).toEqual(lazy)
    expect(itemsQueries()).toHaveLength(1)
    expect(itemsQueries()[0]).toContain('ANY($1')
  })

  it('makes each request one unit of work of the live query hook, concurrent requests and POST /orders transactions included', async () => {
    const recorder = createQueryRecorder()
    const hook = instrumentPg(pgModule, { onExecution: recorder.onExecution })
    // A pool of its own: the recording pool's clients bypass the hook, having copied query() before it was installed.
    const plainPool = new pgModule.Pool({ connectionString: database.url, max: 4 })
    try {
      const instance = app({ pool: plainPool, unitsOfWork: true })
      const { rows } = await pool.query<{ id: number }>('SELECT id FROM products ORDER BY id LIMIT 1')
      // The POST orders for another user: an order it commits for userId mid-GET would change the GETs' count.
      const { rows: others } = await pool.query<{ id: number }>('SELECT id FROM users WHERE id <> $1 ORDER BY id LIMIT 1', [userId])
      await Promise.all([
        instance.inject(`/users/${userId}/orders`),
        instance.inject(`/users/${userId}/orders`),
        instance.inject({
          method: 'POST',
          url: '/orders',
          payload: { userId: others[0]!.id, items: [{ productId: rows[0]!.id, quantity: 1 }] },
        }),
      ])
      const byUnit = new Map<string, QueryExecution[]>()
      for (const execution of recorder.executions())
        if (execution.unit) byUnit.set(execution.unit.id, [...(byUnit.get(execution.unit.id) ?? []), execution])
      expect([...byUnit.values()].map((executions) => executions[0]!.unit!.label).sort()).toEqual([
        'GET /users/:id/orders',
        'GET /users/:id/orders',
        'POST /orders',
      ])
      for (const executions of byUnit.values()) {
        if (executions[0]!.unit!.label === 'POST /orders')
          expect(executions.map((e) => e.sql)).toEqual(expect.arrayContaining(['BEGIN', 'COMMIT']))
        else expect(executions.filter((e) => /FROM items WHERE order_id = \$1/.test(e.sql))).toHaveLength(orderCount)
      }
      const [pattern] = await recorder.patterns()
      expect(pattern).toMatchObject({ units: 2, maxPerUnit: orderCount })
    } finally {
      hook.uninstall()
      await plainPool.end()
    }
  })

  it('answers 404 for an unknown user and 400 for an id that is not a positive integer', async () => {
    expect((await app().inject('/users/999999/orders')).statusCode).toBe(404)
    for (const id of ['abc', '1.5', '-1', '0', '99999999999']) {
      const response = await app().inject(`/users/${id}/orders`)
      expect(response.statusCode, id).toBe(400)
      expect(response.json().message).toContain('positive integer')
    }
  })
})

describe('GET /items', () => {
  it('filters items on the unindexed sku column', async () => {
    const { rows } = await pool.query<{ sku: string; count: number }>(
      'SELECT sku, count(*)::int AS count FROM items GROUP BY sku ORDER BY sku LIMIT 1',
    )
    const response = await app().inject(`/items?sku=${rows[0]!.sku}`)
    expect(response.statusCode).toBe(200)
    const body = response.json<{ items: Array<{ sku: string }> }>()
    expect(body.items).toHaveLength(rows[0]!.count)
    expect(body.items.every((item) => item.sku === rows[0]!.sku)).toBe(true)
  })

  it('answers 400 with the reason when sku is missing', async () => {
    const response = await app().inject('/items')
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toContain('sku')
  })
})

describe('GET /reports/revenue', () => {
  it('aggregates the revenue of all sold lines except cancelled orders', async () => {
    const { rows } = await pool.query<{ revenue: string }>(
      `SELECT sum(i.quantity * i.price_cents) AS revenue FROM items i JOIN orders o ON o.id = i.order_id WHERE o.status <> 'cancelled'`,
    )
    const response = await app().inject('/reports/revenue?top=3')
    expect(response.statusCode).toBe(200)
    const body = response.json<{
      months: Array<{ revenueCents: number }>
      topProducts: Array<{ productId: number; productName: string; revenueCents: number }>
    }>()
    expect(body.months.reduce((sum, month) => sum + month.revenueCents, 0)).toBe(Number(rows[0]!.revenue))
    expect(body.topProducts).toHaveLength(3)
    expect(body.topProducts[0]!.revenueCents).toBeGreaterThanOrEqual(body.topProducts[1]!.revenueCents)
    const { rows: names } = await pool.query<{ name: string }>('SELECT name FROM products WHERE id = $1', [body.topProducts[0]!.productId])
    expect(body.topProducts[0]!.productName).toBe(names[0]!.name)
  })

  it('answers 400 for a bad top', async () => {
    expect((await app().inject('/reports/revenue?top=zero')).statusCode).toBe(400)
  })
})

describe('POST /orders', () => {
  const post = (payload: string | object) =>
    app().inject({
      method: 'POST',
      url: '/orders',
      headers: { 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    })

  it('creates the order and its items in one transaction and answers 201', async () => {
    const before = await rowCounts()
    const response = await post({
      userId: 2,
      items: [
        { productId: 3, quantity: 2 },
        { productId: 4, quantity: 1 },
      ],
    })
    expect(response.statusCode).toBe(201)
    const order = response.json<{
      id: number
      userId: number
      totalCents: number
      items: Array<{ productId: number; quantity: number; priceCents: number }>
    }>()
    expect(order.userId).toBe(2)
    expect(order.items.map((item) => [item.productId, item.quantity])).toEqual([
      [3, 2],
      [4, 1],
    ])
    expect(order.totalCents).toBe(order.items.reduce((sum, item) => sum + item.priceCents * item.quantity, 0))
    expect(await rowCounts()).toEqual({ orders: before.orders + 1, items: before.items + 2 })
    const { rows } = await pool.query('SELECT product_id, quantity FROM items WHERE order_id = $1 ORDER BY id', [order.id])
    expect(rows).toEqual([
      { product_id: 3, quantity: 2 },
      { product_id: 4, quantity: 1 },
    ])
    expect(statements).toEqual(expect.arrayContaining(['BEGIN', 'COMMIT']))
  })

  it.each([
    ['malformed JSON', '{"userId": 1,', 'JSON'],
    ['a missing field', { userId: 1 }, "required property 'items'"],
    ['a string for an integer', { userId: '1', items: [{ productId: 1, quantity: 1 }] }, 'body/userId must be integer'],
    ['a zero quantity', { userId: 1, items: [{ productId: 1, quantity: 0 }] }, 'body/items/0/quantity must be >= 1'],
    ['no items', { userId: 1, items: [] }, 'body/items must NOT have fewer than 1 items'],
    ['an unknown field', { userId: 1, items: [{ productId: 1, quantity: 1 }], coupon: 'FREE' }, 'must NOT have additional properties'],
  ])('answers 400 with the reason for %s and writes nothing', async (_case, payload, reason) => {
    const before = await rowCounts()
    const response = await post(payload)
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toContain(reason)
    expect(await rowCounts()).toEqual(before)
    expect(statements).not.toContain('BEGIN')
  })

  it('rolls back the order already written when a product turns out unknown (422)', async () => {
    const before = await rowCounts()
    const response = await post({
      userId: 1,
      items: [
        { productId: 1, quantity: 1 },
        { productId: 999_999, quantity: 1 },
      ],
    })
    expect(response.statusCode).toBe(422)
    expect(response.json().message).toBe('unknown product 999999')
    expect(await rowCounts()).toEqual(before)
    // The failure really was mid-transaction: the order row had been inserted, then undone.
    const order = statements.findIndex((sql) => sql.startsWith('INSERT INTO orders'))
    expect(order).toBeGreaterThan(statements.indexOf('BEGIN'))
    expect(statements.indexOf('ROLLBACK')).toBeGreaterThan(order)
    expect(statements).not.toContain('COMMIT')
  })

  it('answers 422 for an unknown user and writes nothing', async () => {
    const before = await rowCounts()
    const response = await post({ userId: 999_999, items: [{ productId: 1, quantity: 1 }] })
    expect(response.statusCode).toBe(422)
    expect(response.json().message).toBe('unknown user 999999')
    expect(await rowCounts()).toEqual(before)
  })
})

describe('operations', () => {
  it('reports liveness, readiness and the version, with x-version on every response', async () => {
    const instance = app()
    for (const url of ['/healthz', '/readyz', '/version', '/users/abc/orders', '/no-such-route']) {
      expect((await instance.inject(url)).headers['x-version'], url).toBe('1.2.3')
    }
    expect((await instance.inject('/healthz')).json()).toEqual({ status: 'ok' })
    expect((await instance.inject('/readyz')).json()).toEqual({ status: 'ready' })
    expect((await instance.inject('/version')).json()).toEqual({ version: '1.2.3' })
  })

  it('exposes request durations by route pattern, pool gauges and event-loop lag', async () => {
    const instance = app()
    await instance.inject('/users/1/orders')
    await instance.inject('/users/2/orders')
    await instance.inject('/no-such-route')
    const metrics = await instance.inject('/metrics')
    expect(metrics.statusCode).toBe(200)
    expect(metrics.headers['content-type']).toContain('text/plain')
    expect(metrics.body).toContain('http_request_duration_seconds_count{route="/users/:id/orders",method="GET",status="200"} 2')
    expect(metrics.body).toContain('http_request_duration_seconds_count{route="unmatched",method="GET",status="404"} 1')
    expect(metrics.body).not.toContain('route="/users/1/orders"')
    expect(metrics.body).toMatch(/^pg_pool_total_connections \d+$/m)
    expect(metrics.body).toMatch(/^pg_pool_idle_connections \d+$/m)
    expect(metrics.body).toMatch(/^pg_pool_waiting_requests \d+$/m)
    expect(metrics.body).toMatch(/^nodejs_eventloop_lag_seconds /m)
  })

  it('answers 503 on /readyz when the database is unreachable, while /healthz stays 200', async () => {
    const { pool: deadPool } = recordingPool('postgres://postgres@127.0.0.1:1/none')
    const instance = app({ pool: deadPool })
    expect((await instance.inject('/readyz')).statusCode).toBe(503)
    expect((await instance.inject('/healthz')).statusCode).toBe(200)
    await deadPool.end()
  })

  it('still serves a request on an open connection while draining: /readyz 503, then the connection closes', async () => {
    const instance = app()
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    let during: { status?: number; connection?: string; body: string } | undefined
    // preClose runs after the server stopped routing as "open" but before sockets are reaped.
    instance.addHook('preClose', async () => {
      during = await get(agent, port, '/readyz')
    })
    await instance.listen({ port: 0, host: '127.0.0.1' })
    const port = (instance.server.address() as AddressInfo).port
    const before = await get(agent, port, '/readyz')
    expect(before).toMatchObject({ status: 200, connection: 'keep-alive' })
    await instance.close()
    expect(during).toMatchObject({ status: 503, connection: 'close' })
    expect(JSON.parse(during!.body)).toEqual({ status: 'shutting down' })
    agent.destroy()
  })
})

function get(agent: http.Agent, port: number, path: string): Promise<{ status?: number; connection?: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (response) => {
        let body = ''
        response.on('data', (chunk: Buffer) => (body += chunk.toString()))
        response.on('end', () => resolve({ status: response.statusCode, connection: response.headers.connection, body }))
      })
      .on('error', reject)
  })
}

describe('fault injection', () => {
  it('answers 500 to every request at FAULT_ERROR_RATE=1, except probes, metrics and version', async () => {
    const instance = app({ faults: { errorRate: 1, latencyMs: 0, cpuWork: 0, reportCpuFactor: 1 } })
    const failed = await instance.inject('/users/1/orders')
    expect(failed.statusCode).toBe(500)
    expect(failed.json().message).toContain('injected fault')
    expect((await instance.inject('/items?sku=SKU-00001')).statusCode).toBe(500)
    for (const url of ['/healthz', '/readyz', '/metrics', '/version']) {
      expect((await instance.inject(url)).statusCode, url).toBe(200)
    }
    expect((await instance.inject('/metrics')).body).toContain('route="/users/:id/orders",method="GET",status="500"')
  })

  it('fails the given share of requests', async () => {
    const draws = [0.1, 0.9, 0.2, 0.8]
    const instance = app({ faults: { errorRate: 0.5, latencyMs: 0, cpuWork: 0, reportCpuFactor: 1 }, random: () => draws.shift() ?? 1 })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await instance.inject('/users/1/orders')).statusCode)
    expect(statuses).toEqual([500, 200, 500, 200])
  })
})
