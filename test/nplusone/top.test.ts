import { beforeAll, describe, expect, it } from 'vitest'
import { loadQueryParser } from '../../src/nplusone/identity.js'
import { StatementStats, maskErrorMessage } from '../../src/nplusone/top.js'

beforeAll(() => loadQueryParser())

describe('StatementStats', () => {
  it('ranks statements by total time with calls, mean, p95 and max, and counts errors per statement', () => {
    const stats = new StatementStats()
    for (let i = 1; i <= 100; i++) stats.add({ sql: `SELECT * FROM items WHERE order_id = ${i}`, durationMs: i / 10, startMs: i })
    stats.add({ sql: 'SELECT pg_sleep(1)', durationMs: 1000, startMs: 1 })
    stats.failure({ message: 'canceling statement due to statement timeout', code: '57014', sql: 'SELECT pg_sleep(1)' })
    const { statements, totals } = stats.finish()
    expect(statements.map((row) => row.sql)).toEqual(['SELECT pg_sleep($1)', 'SELECT * FROM items WHERE order_id = $1'])
    expect(statements[1]).toMatchObject({ calls: 100, totalMs: 505, meanMs: 5.05, maxMs: 10, errors: 0 })
    expect(statements[1]!.p95Ms).toBeCloseTo(9.5, 0)
    expect(statements[0]!.errors).toBe(1)
    expect(totals).toMatchObject({ calls: 101, fingerprints: 2, errors: 1 })
  })

  it('ranks by calls when no source had durations', () => {
    const stats = new StatementStats()
    stats.add({ sql: 'SELECT 1' })
    for (let i = 0; i < 3; i++) stats.add({ sql: 'SELECT 2 FROM t' })
    expect(stats.finish().statements.map((row) => row.calls)).toEqual([3, 1])
  })
})

describe('maskErrorMessage', () => {
  it('masks values and keeps names', () => {
    expect(maskErrorMessage('invalid input syntax for type integer: "abc"')).toBe('invalid input syntax for type integer: "?"')
    expect(maskErrorMessage('value 123456 is out of range for type smallint')).toBe('value ? is out of range for type smallint')
    expect(maskErrorMessage('relation "t1" does not exist')).toBe('relation "t1" does not exist')
  })
})

describe('p95', () => {
  it('stays within 2% beyond the range kept exactly', () => {
    const stats = new StatementStats()
    for (let i = 1; i <= 10_000; i++) stats.add({ sql: 'SELECT * FROM t WHERE id = $1', durationMs: i / 100 })
    const p95 = stats.finish().statements[0]!.p95Ms!
    expect(p95 / 95).toBeGreaterThan(0.98)
    expect(p95 / 95).toBeLessThan(1.02)
  })
})
