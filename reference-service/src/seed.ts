import type pg from 'pg'
import { generateSeedData, type SeedCounts } from './seed-data.js'
import { withTransaction } from './transaction.js'

export interface SeedOptions {
  /** Multiplies the default row counts (5k users, 1k products, 20k orders, 100k items). */
  scale?: number
  /** Empty the tables first and seed again; without it an already seeded database is left as is. */
  reset?: boolean
}

export interface SeedResult {
  /** false when the database already had data and nothing was written. */
  seeded: boolean
  /** Rows in each table afterwards. */
  counts: SeedCounts
}

const SEED_LOCK_ID = 7_310_002
/** Rows per INSERT: large enough to be fast, small enough to keep each statement's arrays modest. */
const BATCH_ROWS = 20_000

/**
 * Fills the schema with deterministic data in one transaction (all or nothing). Rows go in as
 * arrays through `unnest`, a handful of statements for 100k rows, which is fast on a real server
 * and on PGlite alike and needs no extension.
 */
export function seed(pool: pg.Pool, options: SeedOptions = {}): Promise<SeedResult> {
  const scale = options.scale ?? 1
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_ID])
    if (options.reset) {
      await client.query('TRUNCATE items, orders, products, users RESTART IDENTITY')
    } else {
      const { rows } = await client.query('SELECT 1 FROM users LIMIT 1')
      if (rows.length > 0) return { seeded: false, counts: await countRows(client) }
    }
    const data = generateSeedData(scale)

    await insertColumns(client, 'users', [
      ['id', 'int', data.users.id],
      ['email', 'text', data.users.email],
      ['name', 'text', data.users.name],
    ])
    await insertColumns(client, 'products', [
      ['id', 'int', data.products.id],
      ['sku', 'text', data.products.sku],
      ['name', 'text', data.products.name],
      ['price_cents', 'int', data.products.priceCents],
    ])
    await insertColumns(client, 'orders', [
      ['id', 'int', data.orders.id],
      ['user_id', 'int', data.orders.userId],
      ['status', 'text', data.orders.status],
      ['created_at', 'timestamptz', data.orders.createdAt],
    ])
    await insertColumns(client, 'items', [
      ['id', 'int', data.items.id],
      ['order_id', 'int', data.items.orderId],
      ['product_id', 'int', data.items.productId],
      ['sku', 'text', data.items.sku],
      ['quantity', 'int', data.items.quantity],
      ['price_cents', 'int', data.items.priceCents],
    ])
    // Explicit ids bypassed the identity sequences; move them past the seeded rows so that
    // POST /orders gets fresh ids.
    for (const table of ['users', 'products', 'orders', 'items']) {
      await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`)
    }
    // Fresh statistics, so the first EXPLAIN after seeding shows realistic plans.
    await client.query('ANALYZE users, products, orders, items')
    return { seeded: true, counts: await countRows(client) }
  })
}

type Column = readonly [name: string, type: 'int' | 'text' | 'timestamptz', values: readonly (number | string)[]]

async function insertColumns(client: pg.PoolClient, table: string, columns: readonly Column[]): Promise<void> {
  const names = columns.map(([name]) => name).join(', ')
  const arrays = columns.map(([, type], index) => `$${index + 1}::${type}[]`).join(', ')
  const sql = `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays})`
  const rows = columns[0]?.[2].length ?? 0
  for (let start = 0; start < rows; start += BATCH_ROWS) {
    await client.query(
      sql,
      columns.map(([, , values]) => values.slice(start, start + BATCH_ROWS)),
    )
  }
}

async function countRows(client: pg.PoolClient): Promise<SeedCounts> {
  const { rows } = await client.query<{ users: string; products: string; orders: string; items: string }>(`
    SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM products) AS products,
           (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM items) AS items`)
  const row = rows[0]
  return { users: Number(row?.users), products: Number(row?.products), orders: Number(row?.orders), items: Number(row?.items) }
}
