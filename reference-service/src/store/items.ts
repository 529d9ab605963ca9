import type pg from 'pg'

export interface ItemBySku {
  id: number
  orderId: number
  productId: number
  sku: string
  quantity: number
  priceCents: number
}

/**
 * Items sold under one sku. items.sku has no index, so this is a sequential scan over the
 * whole table: the slow query opsctl's plan analysis and index advisor are demonstrated on.
 */
export async function findItemsBySku(pool: pg.Pool, sku: string): Promise<ItemBySku[]> {
  const { rows } = await pool.query<{
    id: number
    order_id: number
    product_id: number
    sku: string
    quantity: number
    price_cents: number
  }>('SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE sku = $1 ORDER BY id', [sku])
  return rows.map((row) => ({
    id: row.id,
    orderId: row.order_id,
    productId: row.product_id,
    sku: row.sku,
    quantity: row.quantity,
    priceCents: row.price_cents,
  }))
}
