import { writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, envFlagProvider, migrate, seed } from '../../reference-service/src/index.js'
import { runLoad } from '../../src/load/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { makeTempDir } from '../helpers/temp.js'

// A scenario with variables and body checks against the real reference service on PostgreSQL
// (seed scale 0.01: 50 users, 10 products SKU-00001..SKU-00010). The service runs in this process,
// so the load is generated in an autocannon worker thread: on one shared event loop the service's
// work would count as the generator's, and the run would (rightly) be invalid. Closed model with
// two connections: how fast the service answers on this busy machine does not matter here.

let database: TestDatabase
let pool: pg.Pool
let app: FastifyInstance
let url: string

beforeAll(async () => {
  database = await createTestDatabase('load_refsvc')
  pool = new pg.Pool({ connectionString: database.url, max: 4 })
  await migrate(pool)
  await seed(pool, { scale: 0.01 })
  app = buildApp({ pool, flags: envFlagProvider({}), version: 'load-test' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await app?.close()
  await pool?.end()
  await database?.drop()
})

describe('a scenario against the reference service', () => {
  it('fills user ids, SKUs from a CSV and order bodies, and every check passes', async () => {
    const dir = makeTempDir('opsctl-load-refsvc-')
    writeFileSync(
      join(dir, 'skus.csv'),
      `sku\n${Array.from({ length: 10 }, (_, i) => `SKU-${String(i + 1).padStart(5, '0')}`).join('\n')}\n`,
    )
    writeFileSync(
      join(dir, 'shop.yaml'),
      `name: shop
target: ${url}
seed: 5
load: { connections: 2, requests: 120, workers: 1 }
requests:
  - name: orders of a user
    path: /users/{{userId}}/orders
    weight: 3
    variables:
      userId: { random: { min: 1, max: 50 } }
    expect:
      status: 200
      body:
        json: { path: $.userId, equals: "{{userId}}" }
  - name: items by sku
    path: /items?sku={{sku}}
    variables:
      sku: { csv: { file: skus.csv, column: sku } }
    expect:
      status: 200
      body:
        json: { path: $.sku, equals: "{{sku}}" }
  - name: place an order
    method: POST
    path: /orders
    body: { userId: "{{userId}}", items: [{ productId: "{{productId}}", quantity: 1 }] }
    variables:
      userId: { random: { min: 1, max: 50 } }
      productId: { values: [1, 2, 3, 4, 5] }
    expect:
      status: 201
      body: { contains: '"id"' }
thresholds:
  - error_rate==0
  - p99<10s
`,
    )
    const before = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM orders')
    const result = await runLoad({ source: { scenarioFile: join(dir, 'shop.yaml') } })
    const run = result.runs[0]!
    expect(run.requests).toMatchObject({ total: 120, failed: 0, checkFailed: 0, unexpectedStatus: 0, errors: 0 })
    const byName = Object.fromEntries(run.perRequest.map((entry) => [entry.name, entry.requests]))
    expect(byName['orders of a user']! + byName['items by sku']! + byName['place an order']!).toBe(120)
    expect(byName['orders of a user']).toBeGreaterThan(byName['items by sku']!)
    expect(run.statusCodes).toEqual({ 200: byName['orders of a user']! + byName['items by sku']!, 201: byName['place an order'] })
    const after = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM orders')
    expect(after.rows[0]!.count - before.rows[0]!.count).toBe(byName['place an order'])
    expect(result.thresholds.every((outcome) => outcome.passed)).toBe(true)
    expect(result.validity.reasons).toEqual([])
    expect(result.summary.outcome).toBe('passed')
  })

  it('catches a body that does not match, request by request', async () => {
    const dir = makeTempDir('opsctl-load-refsvc-')
    writeFileSync(
      join(dir, 'wrong.yaml'),
      `target: ${url}\nload: { connections: 2, requests: 30 }\nrequests:\n  - path: /users/{{userId}}/orders\n    variables:\n      userId: { counter: { start: 1 } }\n    expect:\n      body:\n        json: { path: $.userId, equals: 1 }\n`,
    )
    const result = await runLoad({ source: { scenarioFile: join(dir, 'wrong.yaml') } })
    // users 1..30 were asked for; only user 1 answers userId 1
    expect(result.runs[0]!.requests).toMatchObject({ total: 30, checkFailed: 29, ok: 1 })
    expect(Object.keys(result.runs[0]!.checkFailures).length).toBe(29)
  })
})
