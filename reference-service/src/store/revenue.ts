import type pg from 'pg'
import type { RevenueRow } from '../revenue.js'

/**
 * Every sold line with its order date. Fetching raw rows and aggregating in JavaScript is the
 * point: it makes GET /reports/revenue CPU-bound in the service, which is what opsctl's profiler
 * is demonstrated on (a GROUP BY in SQL would be the real fix). Rows come as arrays of numbers
 * only (the order date as epoch milliseconds, product names looked up for the top products
 * afterwards): decoding names and timestamps per row inside `pg` would otherwise cost more than
 * the aggregation and hide it in the flame graph.
 */
export async function fetchRevenueRows(pool: pg.Pool): Promise<RevenueRow[]> {
  const { rows } = await pool.query<[number, number, number, number, number]>({
    text: `SELECT i.product_id, i.order_id, (extract(epoch FROM o.created_at) * 1000)::float8, i.quantity, i.price_cents
           FROM items i
           JOIN orders o ON o.id = i.order_id
           WHERE o.status <> 'cancelled'`,
    rowMode: 'array',
  })
  return rows.map(([productId, orderId, orderedAtMs, quantity, priceCents]) => ({ productId, orderId, orderedAtMs, quantity, priceCents }))
}

/** Names of the given products, by id. */
export async function fetchProductNames(pool: pg.Pool, productIds: readonly number[]): Promise<Map<number, string>> {
  const { rows } = await pool.query<{ id: number; name: string }>('SELECT id, name FROM products WHERE id = ANY($1::int[])', [productIds])
  return new Map(rows.map((row) => [row.id, row.name]))
}
