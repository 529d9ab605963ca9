import { beforeAll, describe, expect, it } from 'vitest'
import { NPlusOneDetector, detectNPlusOne } from '../../src/nplusone/detect.js'
import { loadQueryParser } from '../../src/nplusone/identity.js'
import type { QueryExecution } from '../../src/nplusone/types.js'
import { ITEMS, ORDERS, USER, inUnit, repeated, request } from './helpers/executions.js'

beforeAll(() => loadQueryParser())

/** One request of the reference service's N+1 endpoint: user, orders, then one items query per order. */
function nPlusOneRequest(id: string, orders: number, startMs = 0): QueryExecution[] {
  return inUnit(request(id), [USER, ORDERS, ...Array.from({ length: orders }, (_, i) => ITEMS.replace('$1', String(1000 + i)))], startMs)
}

describe('detectNPlusOne finds', () => {
  it('the same statement repeated in one request with different parameters', () => {
    const [pattern, ...rest] = detectNPlusOne(nPlusOneRequest('r1', 6))
    expect(rest).toEqual([])
    expect(pattern).toMatchObject({
      sql: ITEMS,
      executions: 6,
      units: 1,
      maxPerUnit: 6,
      kind: 'select',
      parsed: true,
      producer: { sql: ORDERS },
      worstUnit: { kind: 'request', id: 'r1', label: 'GET /users/:id/orders', count: 6 },
    })
    expect(pattern!.totalMs).toBeCloseTo(1.8)
    expect(pattern!.meanMs).toBeCloseTo(0.3)
    expect(pattern!.fix.batched).toBe(
      'SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE order_id = ANY($1) ORDER BY order_id, id',
    )
  })

  it('repeats interleaved with other cheap statements', () => {
    const unit = request('r1')
    const statements: string[] = [ORDERS]
    for (let i = 0; i < 5; i++)
      statements.push(`SELECT id FROM items WHERE order_id = ${i}`, 'SELECT now()', `SELECT name FROM products WHERE id = ${i}`)
    const patterns = detectNPlusOne(inUnit(unit, statements))
    expect(patterns.map((pattern) => pattern.sql).sort()).toEqual([
      'SELECT id FROM items WHERE order_id = $1',
      'SELECT name FROM products WHERE id = $1',
      'SELECT now()',
    ])
  })

  it('repeats issued concurrently (Promise.all): overlapping, out of order, interleaved with another request', () => {
    const a = request('a')
    const b = request('b', 'GET /users/:id')
    const executions: QueryExecution[] = [{ sql: ORDERS, unit: a, startMs: 0, durationMs: 1 }]
    // Eight items queries of request a start together and finish in any order, while b does its own work.
    for (const i of [3, 0, 7, 1, 5, 2, 6, 4]) {
      executions.push({ sql: ITEMS, unit: a, startMs: 2, durationMs: 1 + i / 10, params: [String(i)] })
      if (i % 3 === 0) executions.push({ sql: USER, unit: b, startMs: 2 + i, durationMs: 0.2 })
    }
    const patterns = detectNPlusOne(executions)
    expect(patterns).toHaveLength(1)
    expect(patterns[0]).toMatchObject({ sql: ITEMS, executions: 8, units: 1, worstUnit: { id: 'a' } })
  })

  it('repeats inside an explicit transaction on one session', () => {
    const session = '4242'
    const statements = [
      'BEGIN',
      'INSERT INTO orders (user_id) VALUES ($1) RETURNING id',
      ...Array(5).fill('INSERT INTO items (order_id, sku) VALUES ($1, $2)'),
      'COMMIT',
    ]
    // Slow application code between statements: inside a transaction, idle gaps do not end the unit.
    const executions = statements.map((sql, i) => ({ sql, session, startMs: i * 200, durationMs: 0.2 }))
    const patterns = detectNPlusOne(executions)
    expect(patterns).toHaveLength(1)
    expect(patterns[0]).toMatchObject({
      kind: 'insert',
      executions: 5,
      worstUnit: { kind: 'session' },
      producer: { sql: 'INSERT INTO orders (user_id) VALUES ($1) RETURNING id' },
    })
    expect(patterns[0]!.fix.batched).toBe('INSERT INTO items (order_id, sku) SELECT * FROM unnest($1::<order_id type>[], $2::<sku type>[])')
  })

  it('repeats inside an explicit transaction within a request', () => {
    const unit = request('r1', 'POST /orders')
    const patterns = detectNPlusOne(
      inUnit(unit, ['BEGIN', ...Array(6).fill('UPDATE stock SET quantity = quantity - $1 WHERE product_id = $2'), 'COMMIT']),
    )
    expect(patterns).toHaveLength(1)
    expect(patterns[0]!.fix.batched).toBe('UPDATE stock SET quantity = quantity - $1 WHERE product_id = ANY($2)')
  })

  it('one pattern across many requests, with the worst request and where it happens', () => {
    const executions = [...nPlusOneRequest('r1', 5, 0), ...nPlusOneRequest('r2', 9, 100), ...nPlusOneRequest('r3', 2, 200)]
    const [pattern] = detectNPlusOne(executions)
    expect(pattern).toMatchObject({
      units: 2,
      executions: 14,
      maxPerUnit: 9,
      worstUnit: { id: 'r2', count: 9 },
      where: [{ label: 'GET /users/:id/orders', units: 2 }],
    })
  })

  it('in count-only mode when durations are unknown', () => {
    const executions = Array.from({ length: 5 }, (_, i) => ({ sql: `SELECT * FROM items WHERE order_id = ${i}`, session: 's1' }))
    const [pattern] = detectNPlusOne(executions, { minTotalMs: 1000 })
    expect(pattern).toMatchObject({ executions: 5 })
    expect(pattern!.totalMs).toBeUndefined()
  })
})

describe('detectNPlusOne does not flag', () => {
  it('one batched query', () => {
    const unit = request('r1')
    expect(detectNPlusOne(inUnit(unit, [USER, ORDERS, 'SELECT * FROM items WHERE order_id = ANY($1) ORDER BY order_id, id']))).toEqual([])
    expect(detectNPlusOne(inUnit(unit, ['SELECT * FROM items WHERE order_id IN (1, 2, 3, 4, 5, 6, 7)']))).toEqual([])
  })

  it('the same single query once per request across many requests', () => {
    const executions = Array.from({ length: 50 }, (_, i) =>
      inUnit(request(`r${i}`), [USER, ORDERS, 'SELECT * FROM items WHERE order_id = ANY($1)'], i * 5),
    ).flat()
    expect(detectNPlusOne(executions)).toEqual([])
  })

  it('many sessions each running a query once', () => {
    const executions = Array.from({ length: 40 }, (_, i) => ({
      sql: 'SELECT value FROM settings WHERE key = $1',
      session: String(9000 + i),
      startMs: 0,
      durationMs: 0.1,
    }))
    expect(detectNPlusOne(executions)).toEqual([])
  })

  it('once-per-request statements of back-to-back requests on one pooled connection', () => {
    // Requests follow each other on the same backend without an idle gap: the return of the request's first statement starts a new unit.
    const executions: QueryExecution[] = []
    for (let r = 0; r < 20; r++) {
      for (const sql of [USER, ORDERS, 'SELECT * FROM items WHERE order_id = ANY($1)'])
        executions.push({ sql, session: '77', startMs: executions.length, durationMs: 0.2 })
    }
    expect(detectNPlusOne(executions)).toEqual([])
  })

  it('requests on one connection separated by idle gaps', () => {
    const executions = Array.from({ length: 10 }, (_, i) => ({
      sql: 'SELECT * FROM carts WHERE user_id = $1',
      session: '77',
      startMs: i * 1000,
      durationMs: 0.2,
    }))
    expect(detectNPlusOne(executions)).toEqual([])
    // ...unless the gap is configured to be longer than the pauses.
    expect(detectNPlusOne(executions, { idleGapMs: 5000 })).toHaveLength(1)
  })

  it('fewer repeats than minRepeats, or less total time than minTotal', () => {
    expect(detectNPlusOne(nPlusOneRequest('r1', 4))).toEqual([])
    expect(detectNPlusOne(nPlusOneRequest('r1', 6), { minRepeats: 7 })).toEqual([])
    expect(detectNPlusOne(nPlusOneRequest('r1', 6), { minTotalMs: 5 })).toEqual([])
    expect(detectNPlusOne(nPlusOneRequest('r1', 6), { minTotalMs: 1 })).toHaveLength(1)
  })

  it('repeated transaction control and session settings', () => {
    const unit = request('job')
    const statements = Array.from({ length: 8 }, () => [
      'BEGIN',
      'SAVEPOINT s',
      'SET LOCAL statement_timeout = 1000',
      'RELEASE SAVEPOINT s',
      'COMMIT',
    ]).flat()
    expect(detectNPlusOne(inUnit(unit, statements))).toEqual([])
  })

  it('statements that failed', () => {
    const executions = repeated(ITEMS, 8, { unit: request('r1'), error: 'canceling statement due to statement timeout' })
    expect(detectNPlusOne(executions)).toEqual([])
  })

  it('what the ignore list names, by fingerprint or by SQL glob', () => {
    const [pattern] = detectNPlusOne(nPlusOneRequest('r1', 6))
    expect(detectNPlusOne(nPlusOneRequest('r1', 6), { ignore: [pattern!.fingerprint] })).toEqual([])
    expect(detectNPlusOne(nPlusOneRequest('r1', 6), { ignore: ['select * from ITEMS where *'] })).toEqual([])
    expect(detectNPlusOne(nPlusOneRequest('r1', 6), { ignore: ['SELECT * FROM orders*'] })).toHaveLength(1)
  })
})

describe('detectNPlusOne output', () => {
  it('never carries parameter values unless showParams', () => {
    const executions = repeated("SELECT * FROM users WHERE email = 'alice@example.test'", 5, {
      unit: request('r1'),
      params: ['secret-token-1'],
    })
    const hidden = JSON.stringify(detectNPlusOne(executions))
    expect(hidden).not.toContain('alice@example.test')
    expect(hidden).not.toContain('secret-token-1')
    const shown = detectNPlusOne(executions, { showParams: true })
    expect(shown[0]!.samples).toHaveLength(3)
    expect(JSON.stringify(shown)).toContain('secret-token-1')
  })

  it('names the most frequent call site', () => {
    const executions = [
      ...repeated(ITEMS, 5, { unit: request('r1'), callSite: 'src/store/orders.ts:80:34 (listOrdersWithItems)' }),
      ...repeated(ITEMS, 5, { unit: request('r2'), callSite: 'src/store/orders.ts:80:34 (listOrdersWithItems)' }),
      ...repeated(ITEMS, 5, { unit: request('r3'), callSite: 'src/jobs/export.ts:12:3' }),
    ]
    expect(detectNPlusOne(executions)[0]!.callSite).toBe('src/store/orders.ts:80:34 (listOrdersWithItems)')
  })

  it('counts statements identified by the lexical fallback and still detects them', () => {
    const detector = new NPlusOneDetector()
    for (let i = 0; i < 5; i++) detector.add({ sql: `SELEC * FROM items WHERE order_id = ${i}`, unit: request('r1') })
    const { patterns, totals } = detector.finish()
    expect(totals.lexical).toBe(5)
    expect(patterns[0]).toMatchObject({ parsed: false, sql: 'SELEC * FROM items WHERE order_id = $1' })
  })
})

describe('NPlusOneDetector streaming', () => {
  it('judges session units as they close, keeping few units open on a long log', () => {
    const detector = new NPlusOneDetector()
    const internals = detector as unknown as { open: Map<string, unknown> }
    let maxOpen = 0
    for (let i = 0; i < 20_000; i++) {
      detector.add({ sql: i % 4 === 0 ? ORDERS : ITEMS, session: String(i % 16), startMs: i * 10, durationMs: 0.1 })
      maxOpen = Math.max(maxOpen, internals.open.size)
    }
    expect(maxOpen).toBeLessThanOrEqual(16)
    const { totals } = detector.finish()
    expect(totals.executions).toBe(20_000)
  })

  it('agrees with a brute-force count on random interleavings', () => {
    let seed = 7
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    for (let round = 0; round < 200; round++) {
      const repeats = 1 + Math.floor(random() * 9)
      const executions: QueryExecution[] = []
      for (let unit = 0; unit < 3; unit++) {
        const statements = [
          ORDERS,
          ...Array.from({ length: repeats }, () => ITEMS),
          ...Array.from({ length: Math.floor(random() * 6) }, (_, i) => `SELECT ${i} FROM noise`),
        ]
        statements.sort(() => random() - 0.5)
        executions.push(...inUnit(request(`u${unit}`), statements, unit * 100))
      }
      executions.sort(() => random() - 0.5)
      const flagged = detectNPlusOne(executions).find((pattern) => pattern.sql === ITEMS)
      expect(Boolean(flagged), `repeats ${repeats}`).toBe(repeats >= 5)
      if (flagged) expect(flagged.executions).toBe(3 * repeats)
    }
  })
})
