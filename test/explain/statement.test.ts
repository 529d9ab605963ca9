import { describe, expect, it } from 'vitest'
import { checkStatement } from '../../src/explain/statement.js'
import { coveredByIndex, indexCandidates, type TableRef } from '../../src/explain/candidates.js'

async function refusal(sql: string): Promise<{ message: string; exit: number }> {
  try {
    await checkStatement(sql)
  } catch (error) {
    return { message: (error as Error).message, exit: (error as { exit: number }).exit }
  }
  throw new Error(`accepted: ${sql}`)
}

describe('checking the statement before it runs', () => {
  it('takes exactly one statement and trims comments and the semicolon around it', async () => {
    const checked = await checkStatement('-- the slow one\n  SELECT * FROM items WHERE sku = $1 ORDER BY id;  \n')
    expect(checked).toMatchObject({ text: 'SELECT * FROM items WHERE sku = $1 ORDER BY id', kind: 'SELECT', paramCount: 1, notes: [] })
  })

  it.each([
    ['UPDATE items SET quantity = 1 WHERE id = $2', 'UPDATE', 2],
    ['DELETE FROM items WHERE id IN (SELECT id FROM items LIMIT 5)', 'DELETE', 0],
    ["INSERT INTO items (sku) VALUES ('x')", 'INSERT', 0],
    ['VALUES (1), (2)', 'SELECT', 0],
    ['CREATE TABLE copy AS SELECT * FROM items', 'CREATE TABLE AS', 0],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', 'MERGE', 0],
  ])('accepts %s', async (sql, kind, params) => {
    expect(await checkStatement(sql)).toMatchObject({ kind, paramCount: params })
  })

  it('notes that sequences are not rolled back for INSERT', async () => {
    expect((await checkStatement("INSERT INTO items (sku) VALUES ('x')")).notes[0]).toMatch(/Sequences .* stay advanced/)
  })

  it('refuses several statements (exit 2)', async () => {
    expect(await refusal('SELECT 1; DELETE FROM items')).toEqual({
      message: 'Got 2 statements; opsctl explains exactly one at a time',
      exit: 2,
    })
  })

  it('reports a syntax error with its line, column and a caret', async () => {
    const { message, exit } = await refusal('SELECT id\nFROM items\nWHER sku = 1')
    expect(exit).toBe(2)
    expect(message).toBe('Syntax error in the statement: syntax error at or near "sku" at line 3, column 6\n  WHER sku = 1\n       ^')
  })

  it('counts the position in characters, also after non-ASCII text', async () => {
    expect((await refusal("SELECT 'héllo wörld' FRM items")).message).toContain('syntax error at or near "items" at line 1, column 26')
    expect((await checkStatement("-- é\nSELECT 'ü' ;  ")).text).toBe("SELECT 'ü'")
  })

  it.each([
    ['hello world', /Syntax error .* at line 1, column 1/],
    ['', /the input is empty/],
    ['-- nothing but a comment', /only comments/],
    ['[{"Plan": {}}]', /looks like a plan/],
    ['COMMIT', /transaction control .* would end the transaction opsctl rolls back/],
    ['BEGIN', /transaction control/],
    ['VACUUM items', /VACUUM and ANALYZE cannot run inside a transaction block/],
    ['CREATE INDEX CONCURRENTLY ON items (sku)', /CREATE INDEX is not a query EXPLAIN can run/],
    ['EXPLAIN SELECT 1', /already an EXPLAIN/],
    ['DROP TABLE items', /DROP is not a query EXPLAIN can run/],
    ["SELECT dblink_exec('dbname=x', 'DELETE FROM items')", /dblink_exec\(\) acts outside the transaction/],
    ["SELECT setval('items_id_seq', 1)", /setval\(\) acts outside the transaction/],
    ['CALL refresh()', /CALL may commit/],
  ])('refuses %j (exit 2)', async (sql, message) => {
    const result = await refusal(sql)
    expect(result.exit).toBe(2)
    expect(result.message).toMatch(message)
  })
})

describe('index candidates from the parse tree', () => {
  const candidates = async (sql: string, columns: Record<string, string[]> = {}) => {
    const { tree } = await checkStatement(sql)
    return indexCandidates(tree, { columnsOf: (table: TableRef) => columns[table.name] })
  }
  const definitions = async (sql: string, columns: Record<string, string[]> = {}) =>
    (await candidates(sql, columns)).candidates.map((c) => c.definition)

  it("proposes the filter column of the reference service's /items?sku= query, then with its ORDER BY", async () => {
    const result = await candidates('SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE sku = $1 ORDER BY id')
    expect(result.candidates.map((c) => [c.definition, c.reason])).toEqual([
      ['CREATE INDEX ON items (sku)', 'equality on sku'],
      ['CREATE INDEX ON items (sku, id)', 'equality on sku, ORDER BY id'],
    ])
    expect(result.tables).toEqual([{ schema: null, name: 'items' }])
  })

  it('resolves aliases and proposes join columns on both sides', async () => {
    expect(
      await definitions("SELECT i.id FROM items i JOIN orders o ON o.id = i.order_id WHERE o.status = 'placed' AND i.quantity > 3"),
    ).toEqual([
      'CREATE INDEX ON orders (status)',
      'CREATE INDEX ON orders (id)',
      'CREATE INDEX ON items (quantity)',
      'CREATE INDEX ON items (order_id)',
    ])
  })

  it('resolves unqualified columns with the catalog when several tables are joined', async () => {
    const sql = 'SELECT * FROM items, orders WHERE items.order_id = orders.id AND status = $1 AND sku = $2'
    expect(await definitions(sql, { items: ['id', 'order_id', 'sku'], orders: ['id', 'status'] })).toEqual([
      'CREATE INDEX ON items (sku)',
      'CREATE INDEX ON items (order_id)',
      'CREATE INDEX ON orders (status)',
      'CREATE INDEX ON orders (id)',
    ])
    const unknown = await candidates(sql)
    expect(unknown.unresolved).toEqual(['status', 'sku'])
  })

  it('orders equality before range columns and proposes composites', async () => {
    expect(await definitions('SELECT * FROM orders WHERE user_id = $1 AND status = $2 AND created_at BETWEEN $3 AND $4')).toEqual([
      'CREATE INDEX ON orders (user_id, status)',
      'CREATE INDEX ON orders (user_id)',
      'CREATE INDEX ON orders (status)',
      'CREATE INDEX ON orders (user_id, status, created_at)',
      'CREATE INDEX ON orders (created_at)',
    ])
  })

  it('understands IN, = ANY, DESC sorts and ignores OR branches', async () => {
    expect(await definitions('SELECT * FROM items WHERE order_id = ANY($1) ORDER BY id DESC')).toEqual([
      'CREATE INDEX ON items (order_id)',
      'CREATE INDEX ON items (order_id, id DESC)',
    ])
    expect(await definitions('SELECT * FROM items WHERE sku IN ($1, $2)')).toEqual(['CREATE INDEX ON items (sku)'])
    expect(await definitions('SELECT * FROM items WHERE sku = $1 OR quantity = 2')).toEqual([])
    expect(await definitions('SELECT sku, count(*) FROM items WHERE order_id = $1 GROUP BY sku ORDER BY 2')).toEqual([
      'CREATE INDEX ON items (order_id)',
    ])
    expect(await definitions('SELECT g FROM generate_series(1, 10) g ORDER BY 1')).toEqual([])
  })

  it('follows subqueries, correlated references and CTEs', async () => {
    const sql = `WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day')
      SELECT * FROM recent r WHERE EXISTS (SELECT 1 FROM items i WHERE i.order_id = r.id AND i.sku = $1)`
    expect(await definitions(sql)).toEqual([
      'CREATE INDEX ON orders (created_at)',
      'CREATE INDEX ON items (sku)',
      'CREATE INDEX ON items (order_id)',
    ])
  })

  it('reads UPDATE and DELETE targets, and self-joins', async () => {
    expect(await definitions('UPDATE items SET quantity = 2 WHERE sku = $1')).toEqual(['CREATE INDEX ON items (sku)'])
    expect(await definitions('DELETE FROM items USING orders WHERE items.order_id = orders.id AND orders.status = $1')).toEqual([
      'CREATE INDEX ON items (order_id)',
      'CREATE INDEX ON orders (status)',
      'CREATE INDEX ON orders (id)',
    ])
    expect(await definitions('SELECT * FROM t t1 JOIN t t2 ON t1.b = t2.a')).toEqual(['CREATE INDEX ON t (b)', 'CREATE INDEX ON t (a)'])
  })

  it('quotes identifiers that need it and keeps schemas', async () => {
    expect(await definitions('SELECT * FROM sales."Order Lines" l WHERE l."Sku" = $1 AND l.user = 1')).toEqual([
      'CREATE INDEX ON sales."Order Lines" ("Sku", "user")',
      'CREATE INDEX ON sales."Order Lines" ("Sku")',
      'CREATE INDEX ON sales."Order Lines" ("user")',
    ])
  })

  it('skips candidates an existing index already starts with', async () => {
    const [sku, skuId] = (await candidates('SELECT * FROM items WHERE sku = $1 ORDER BY id')).candidates
    expect(coveredByIndex(sku!, [['sku', 'id']])).toBe(true)
    expect(coveredByIndex(skuId!, [['sku']])).toBe(false)
    expect(coveredByIndex(sku!, [['id']])).toBe(false)
  })
})
