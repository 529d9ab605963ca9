import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate, seed } from '../../reference-service/src/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const TABLES = ['users', 'products', 'orders', 'items'] as const

/** One md5 per table over every row in id order: equal checksums mean identical data. */
async function checksums(pool: pg.Pool): Promise<Record<string, string>> {
  const result: Record<string, string> = {}
  for (const table of TABLES) {
    const { rows } = await pool.query<{ sum: string }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS sum FROM ${table} t`)
    result[table] = rows[0]!.sum
  }
  return result
}

async function schemaShape(pool: pg.Pool): Promise<unknown> {
  const { rows: columns } = await pool.query(
    `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
  )
  const { rows: indexes } = await pool.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`)
  const { rows: migrations } = await pool.query('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
  return { columns, indexes, migrations }
}

describe('migrate and seed', () => {
  let first: TestDatabase
  let second: TestDatabase
  let a: pg.Pool
  let b: pg.Pool

  beforeAll(async () => {
    ;[first, second] = await Promise.all([createTestDatabase('refsvc_db_a'), createTestDatabase('refsvc_db_b')])
    a = new pg.Pool({ connectionString: first.url, max: 2 })
    b = new pg.Pool({ connectionString: second.url, max: 2 })
  })

  afterAll(async () => {
    await Promise.all([a?.end(), b?.end()])
    await Promise.all([first?.drop(), second?.drop()])
  })

  it('migrates once; a second run changes nothing', async () => {
    expect(await migrate(a)).toEqual({ applied: [1], current: 1 })
    const before = await schemaShape(a)
    expect(await migrate(a)).toEqual({ applied: [], current: 1 })
    expect(await schemaShape(a)).toEqual(before)
  })

  it('indexes orders.user_id and items.order_id but deliberately not items.sku', async () => {
    const { rows } = await a.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename IN ('orders', 'items')`)
    const definitions = rows.map((row) => row.indexdef)
    expect(definitions.some((definition) => /ON public\.orders USING btree \(user_id\)/.test(definition))).toBe(true)
    expect(definitions.some((definition) => /ON public\.items USING btree \(order_id\)/.test(definition))).toBe(true)
    expect(definitions.some((definition) => /\(sku\)/.test(definition) && /items/.test(definition))).toBe(false)
  })

  it('seeds the scaled row counts', async () => {
    const result = await seed(a, { scale: 0.01 })
    expect(result).toEqual({ seeded: true, counts: { users: 50, products: 10, orders: 200, items: 1000 } })
  })

  it('seeds identical data into two databases at the same scale', async () => {
    await migrate(b)
    await seed(b, { scale: 0.01 })
    expect(await checksums(b)).toEqual(await checksums(a))
  })

  it('leaves an already seeded database alone', async () => {
    const before = await checksums(a)
    expect(await seed(a, { scale: 0.02 })).toEqual({ seeded: false, counts: { users: 50, products: 10, orders: 200, items: 1000 } })
    expect(await checksums(a)).toEqual(before)
  })

  it('reseeds from scratch with reset, and new rows get ids after the seeded ones', async () => {
    await seed(b, { scale: 0.02, reset: true })
    const again = await seed(b, { scale: 0.01, reset: true })
    expect(again.counts).toEqual({ users: 50, products: 10, orders: 200, items: 1000 })
    expect(await checksums(b)).toEqual(await checksums(a))
    const { rows } = await b.query<{ id: number }>(`INSERT INTO orders (user_id) VALUES (1) RETURNING id`)
    expect(rows[0]!.id).toBe(201)
  })
})
