import { beforeAll, describe, expect, it } from 'vitest'
import { QueryIdentifier, loadQueryParser } from '../../src/nplusone/identity.js'
import { suggestFix } from '../../src/nplusone/fix.js'

beforeAll(() => loadQueryParser())

const identify = (sql: string) => new QueryIdentifier().identify(sql)
const fix = (sql: string, producer?: string) => suggestFix(identify(sql), producer ? identify(producer) : undefined)

describe('suggestFix', () => {
  it('batches a per-id SELECT with = ANY, returning and ordering by the id column', () => {
    expect(fix('SELECT sku, quantity FROM items WHERE order_id = 7').batched).toBe(
      'SELECT order_id, sku, quantity FROM items WHERE order_id = ANY($1)',
    )
    expect(fix('SELECT * FROM items WHERE order_id = $1 ORDER BY id LIMIT 50').batched).toBe(
      'SELECT * FROM items WHERE order_id = ANY($1) ORDER BY order_id, id',
    )
  })

  it('keeps casts as array casts and picks the id column among several conditions', () => {
    expect(fix("SELECT i.sku FROM items i WHERE i.status = 'open' AND i.order_id = $2::int").batched).toBe(
      'SELECT i.order_id, i.sku FROM items i WHERE i.status = $3 AND i.order_id = ANY($2::int[])',
    )
  })

  it('folds in the statement that produced the ids', () => {
    const result = fix(
      'SELECT id, sku FROM items WHERE order_id = $1 ORDER BY id',
      'SELECT id, status FROM orders WHERE user_id = $1 AND status <> $2 ORDER BY created_at',
    )
    expect(result.joined).toBe(
      'SELECT order_id, id, sku FROM items WHERE order_id IN (SELECT id FROM orders WHERE user_id = $1 AND status <> $2) ORDER BY order_id, id',
    )
  })

  it('batches single-row INSERTs with unnest, and UPDATE/DELETE by id', () => {
    expect(fix('INSERT INTO audit (user_id, action) VALUES ($1, $2)').batched).toBe(
      'INSERT INTO audit (user_id, action) SELECT * FROM unnest($1::<user_id type>[], $2::<action type>[])',
    )
    expect(fix('DELETE FROM sessions WHERE user_id = $1').batched).toBe('DELETE FROM sessions WHERE user_id = ANY($1)')
  })

  it('falls back to advice when the statement has no equality on a parameter', () => {
    const result = fix('SELECT * FROM items WHERE price > $1')
    expect(result.batched).toBeUndefined()
    expect(result.summary).toContain('ANY($1)')
  })
})
