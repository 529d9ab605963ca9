import { beforeAll, describe, expect, it } from 'vitest'
import { QueryIdentifier, loadQueryParser } from '../../src/nplusone/index.js'

beforeAll(() => loadQueryParser())

describe('QueryIdentifier', () => {
  it('gives statements that differ in literals, IN-list length, parameters, whitespace and case one fingerprint', () => {
    const identifier = new QueryIdentifier()
    const prints = [
      'SELECT * FROM items WHERE id IN (1, 2, 3)',
      'SELECT * FROM items WHERE id IN (4,5)',
      'select *\n from ITEMS where ID in ($1, $2)',
      'SELECT * FROM items WHERE id IN (6) -- one',
    ].map((sql) => identifier.identify(sql).fingerprint)
    expect(new Set(prints).size).toBe(1)
    expect(prints[0]).toMatch(/^[0-9a-f]{16}$/)
  })

  it('normalises with $n and without comments, on one line', () => {
    const identity = new QueryIdentifier().identify("SELECT id /* orm */ FROM users\n WHERE email = 'alice@example.test'")
    expect(identity.sql).toBe('SELECT id FROM users WHERE email = $1')
    expect(identity.parsed).toBe(true)
    expect(identity.kind).toBe('select')
  })

  it('parses each distinct statement once, however many literal values it is run with', () => {
    const identifier = new QueryIdentifier()
    for (let i = 0; i < 500; i++) identifier.identify(`SELECT * FROM items WHERE sku = 'SKU-${i}' AND order_id = ${i}`)
    expect(identifier.parses).toBe(1)
  })

  it('falls back to a labelled lexical normalisation for statements the parser rejects', () => {
    const identifier = new QueryIdentifier()
    const first = identifier.identify("SELEC * FROM items WHERE sku = 'a'")
    const second = identifier.identify("SELEC * FROM items WHERE sku = 'b'")
    expect(first.parsed).toBe(false)
    expect(first.fingerprint).toMatch(/^lex:[0-9a-f]{16}$/)
    expect(second.fingerprint).toBe(first.fingerprint)
    expect(first.sql).toBe('SELEC * FROM items WHERE sku = $1')
  })

  it('classifies transaction control and utility statements', () => {
    const identifier = new QueryIdentifier()
    const kind = (sql: string) => identifier.identify(sql).kind
    expect(kind('BEGIN')).toBe('begin')
    expect(kind('START TRANSACTION ISOLATION LEVEL SERIALIZABLE')).toBe('begin')
    expect(kind('COMMIT')).toBe('commit')
    expect(kind('ROLLBACK')).toBe('rollback')
    expect(kind('SAVEPOINT a')).toBe('utility')
    expect(kind('SET search_path = app')).toBe('utility')
    expect(kind('INSERT INTO t VALUES (1)')).toBe('insert')
    expect(kind('WITH x AS (SELECT 1) UPDATE t SET a = 1 FROM x')).toBe('update')
  })
})
