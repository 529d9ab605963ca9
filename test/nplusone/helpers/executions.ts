import type { QueryExecution, UnitRef } from '../../../src/nplusone/types.js'

/** A request unit, as the live hook or a trace names it. */
export function request(id: string, label = 'GET /users/:id/orders'): UnitRef {
  return { kind: 'request', id, label }
}

/** `count` executions of a parameterised statement in one unit, 1 ms apart from `startMs`. */
export function repeated(sql: string, count: number, extra: Partial<QueryExecution> = {}, startMs = 0): QueryExecution[] {
  return Array.from({ length: count }, (_, i) => ({ sql, durationMs: 0.4, startMs: startMs + i, params: [String(100 + i)], ...extra }))
}

/** Statements of one request: the ones given, in order, 1 ms apart. */
export function inUnit(unit: UnitRef, statements: string[], startMs = 0): QueryExecution[] {
  return statements.map((sql, i) => ({ sql, unit, durationMs: 0.3, startMs: startMs + i }))
}

export const ORDERS = 'SELECT id, user_id, status, created_at FROM orders WHERE user_id = $1 ORDER BY created_at, id'
export const ITEMS = 'SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE order_id = $1 ORDER BY id'
export const USER = 'SELECT 1 FROM users WHERE id = $1'
