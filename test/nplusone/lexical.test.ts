import { describe, expect, it } from 'vitest'
import { lexicalKey, lexicalNormalize, literalValues, tidySql } from '../../src/nplusone/lexical.js'

describe('lexicalKey', () => {
  it('collapses literals, parameters, comments, whitespace and keyword case', () => {
    const key = lexicalKey('SELECT * FROM items WHERE order_id = 42')
    expect(lexicalKey('select *\n  from items   where order_id = 7 -- hot path')).toBe(key)
    expect(lexicalKey('SELECT * FROM items WHERE order_id = $3')).toBe(key)
    expect(lexicalKey('SELECT * /* from the ORM */ FROM items WHERE order_id = 1e3')).toBe(key)
  })

  it('treats every kind of string literal as one literal', () => {
    const key = lexicalKey("SELECT * FROM t WHERE a = 'x'")
    for (const literal of ["'it''s'", "E'a\\'b'", "$$dollar ' quoted$$", '$tag$with $$ inside$tag$', "X'1F'", "B'101'", "U&'d\\0061t'"]) {
      expect(lexicalKey(`SELECT * FROM t WHERE a = ${literal}`), literal).toBe(key)
    }
  })

  it('keeps what changes the statement: names, quoted identifiers, operators', () => {
    const key = lexicalKey('SELECT * FROM items WHERE order_id = 1')
    expect(lexicalKey('SELECT * FROM items WHERE product_id = 1')).not.toBe(key)
    expect(lexicalKey('SELECT * FROM "Items" WHERE order_id = 1')).not.toBe(key)
    expect(lexicalKey('SELECT * FROM "items" WHERE order_id = 1')).not.toBe(lexicalKey('SELECT * FROM "ITEMS" WHERE order_id = 1'))
    expect(lexicalKey('SELECT * FROM items WHERE order_id > 1')).not.toBe(key)
    expect(lexicalKey('SELECT * FROM t1 WHERE a = 1')).not.toBe(lexicalKey('SELECT * FROM t2 WHERE a = 1'))
  })

  it('does not mistake a literal for SQL: a quote inside a string cannot open another', () => {
    expect(lexicalKey("SELECT 'a -- not a comment' FROM t")).toBe(lexicalKey('SELECT 1 FROM t'))
    expect(lexicalKey("SELECT '/* not a comment */', x FROM t")).toBe(lexicalKey('SELECT 1, x FROM t'))
  })
})

describe('lexicalNormalize', () => {
  it('numbers literals and parameters as $n and keeps case', () => {
    expect(lexicalNormalize("SELEC * FROM Items WHERE id IN (1, 2) AND sku = 'x' -- c\n AND p = $9")).toBe(
      'SELEC * FROM Items WHERE id IN ($1, $2) AND sku = $3 AND p = $4',
    )
  })
})

describe('literalValues', () => {
  it('lists the literals of a simple-protocol statement, for --show-params', () => {
    expect(literalValues("SELECT * FROM t WHERE a = 42 AND b = 'it''s' AND c = E'x' AND t1.d = 3.5")).toEqual([
      '42',
      "'it''s'",
      "E'x'",
      '3.5',
    ])
  })
})

describe('tidySql', () => {
  it('drops comments and collapses whitespace outside strings', () => {
    expect(tidySql("SELECT  a,\n\tb /* c */ FROM t WHERE x = '  two  spaces '")).toBe("SELECT a, b FROM t WHERE x = '  two  spaces '")
  })
})
