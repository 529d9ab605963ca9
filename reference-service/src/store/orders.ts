import type pg from 'pg'
import { withTransaction } from '../transaction.js'

export interface OrderItem {
  id: number
  productId: number
  sku: string
  quantity: number
  priceCents: number
}

export interface Order {
  id: number
  userId: number
  status: string
  createdAt: string
  totalCents: number
  items: OrderItem[]
}

export interface OrderLine {
  productId: number
  quantity: number
}

/** An order that names a user or product the database does not have. */
export class UnknownReferenceError extends Error {
  override name = 'UnknownReferenceError'
  constructor(
    readonly entity: 'user' | 'product',
    readonly ids: number[],
  ) {
    super(`unknown ${entity}${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`)
  }
}

interface OrderRow {
  id: number
  user_id: number
  status: string
  created_at: Date
}

interface ItemRow {
  id: number
  order_id: number
  product_id: number
  sku: string
  quantity: number
  price_cents: number
}

const ITEM_COLUMNS = 'id, order_id, product_id, sku, quantity, price_cents'

export async function userExists(pool: pg.Pool, userId: number): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM users WHERE id = $1', [userId])
  return rows.length > 0
}

/**
 * A user's orders with their items. With `eagerLoading` off this is the classic ORM N+1: one
 * query for the orders, then one items query per order, one after the other. It is wrong on
 * purpose; opsctl's N+1 detector must find it, and the `orders.eager-loading` flag fixes it
 * with one batched query.
 */
export async function listOrdersWithItems(pool: pg.Pool, userId: number, options: { eagerLoading: boolean }): Promise<Order[]> {
  const { rows: orders } = await pool.query<OrderRow>(
    'SELECT id, user_id, status, created_at FROM orders WHERE user_id = $1 ORDER BY created_at, id',
    [userId],
  )
  const itemsByOrder = new Map<number, ItemRow[]>()
  if (options.eagerLoading) {
    if (orders.length > 0) {
      const { rows } = await pool.query<ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM items WHERE order_id = ANY($1::int[]) ORDER BY order_id, id`,
        [orders.map((order) => order.id)],
      )
      for (const row of rows) {
        const list = itemsByOrder.get(row.order_id)
        if (list) list.push(row)
        else itemsByOrder.set(row.order_id, [row])
      }
    }
  } else {
    for (const order of orders) {
      const { rows } = await pool.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE order_id = $1 ORDER BY id`, [order.id])
      itemsByOrder.set(order.id, rows)
    }
  }
  return orders.map((order) => toOrder(order, itemsByOrder.get(order.id) ?? []))
}

/**
 * Creates an order and its items in one transaction. The order row is written first and the
 * items after, so an unknown product fails halfway through and the rollback has real work to
 * undo: nothing of a failed order is ever visible.
 */
export function createOrder(pool: pg.Pool, userId: number, lines: readonly OrderLine[]): Promise<Order> {
  return withTransaction(pool, async (client) => {
    let order: OrderRow
    try {
      const { rows } = await client.query<OrderRow>(
        `INSERT INTO orders (user_id, status) VALUES ($1, 'placed') RETURNING id, user_id, status, created_at`,
        [userId],
      )
      order = rows[0] as OrderRow
    } catch (error) {
      // The foreign key is the check: no separate SELECT that could race with a delete.
      if (isForeignKeyViolation(error)) throw new UnknownReferenceError('user', [userId])
      throw error
    }
    // Prices and skus come from the product as it is now, not from the client.
    const { rows: items } = await client.query<ItemRow>(
      `INSERT INTO items (order_id, product_id, sku, quantity, price_cents)
       SELECT $1, p.id, p.sku, line.quantity, p.price_cents
       FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS line(product_id, quantity, position)
       JOIN products p ON p.id = line.product_id
       ORDER BY line.position
       RETURNING ${ITEM_COLUMNS}`,
      [order.id, lines.map((line) => line.productId), lines.map((line) => line.quantity)],
    )
    if (items.length !== lines.length) {
      const found = new Set(items.map((item) => item.product_id))
      throw new UnknownReferenceError('product', [...new Set(lines.map((line) => line.productId).filter((id) => !found.has(id)))])
    }
    return toOrder(
      order,
      items.sort((a, b) => a.id - b.id),
    )
  })
}

function toOrder(order: OrderRow, items: readonly ItemRow[]): Order {
  const mapped = items.map((item) => ({
    id: item.id,
    productId: item.product_id,
    sku: item.sku,
    quantity: item.quantity,
    priceCents: item.price_cents,
  }))
  return {
    id: order.id,
    userId: order.user_id,
    status: order.status,
    createdAt: order.created_at.toISOString(),
    totalCents: mapped.reduce((sum, item) => sum + item.priceCents * item.quantity, 0),
    items: mapped,
  }
}

function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23503'
}
