import type pg from 'pg'
import type { RevenueRow } from '../revenue.js'

/**
 * Every sold line with its product and order date. Fetching raw rows and aggregating in
 * JavaScript is the point: it makes GET /reports/revenue CPU-bound in the service, which is
 * what opsctl's profiler is demonstrated on (a GROUP BY in SQL would be the real fix).
 * The order date travels as epoch milliseconds: parsing 100k timestamps into Dates inside `pg`
 * would otherwise cost more than the aggregation and hide it in the flame graph.
 */
export async function fetchRevenueRows(pool: pg.Pool): Promise<RevenueRow[]> {
  const { rows } = await pool.query<{ product_id: number; product_name: string; order_id: number; ordered_at_ms: number; quantity: number; price_cents: number }>(
    `SELECT i.product_id, p.name AS product_name, i.order_id,
            (extract(epoch FROM o.created_at) * 1000)::float8 AS ordered_at_ms, i.quantity, i.price_cents
     FROM items i
     JOIN orders o ON o.id = i.order_id
     JOIN products p ON p.id = i.product_id
     WHERE o.status <> 'cancelled'`,
  )
  return rows.map((row) => ({
    productId: row.product_id,
    productName: row.product_name,
    orderId: row.order_id,
    orderedAtMs: row.ordered_at_ms,
    quantity: row.quantity,
    priceCents: row.price_cents,
  }))
}
