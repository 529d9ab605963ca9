/**
 * `opsctl db explain` and `opsctl db plan-diff` as a user runs them, against the real PostgreSQL
 * with the reference service's schema and a small seed. The module behaviour is covered in
 * explain.integration.test.ts; here: exit codes, stdout/stderr, --json, --apply, stdin.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate, seed } from '../../reference-service/src/index.js'
import { runCli } from '../helpers/cli.js'
import { SERVER_URL, createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { fixture, fixturePath } from './plan-builders.js'
import { makeTempDir } from '../helpers/temp.js'

const ITEMS_BY_SKU = 'SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE sku = $1 ORDER BY id'
const serverAvailable = requireOrSkip(await isServerReachable(), 'no PostgreSQL server reachable for the db explain CLI tests')
const role = `opsctl_explain_nobody_${randomBytes(3).toString('hex')}`

let db: TestDatabase
let pool: pg.Pool
let cwd: string
let hypopgAvailable = false

const opsctl = (args: string[], options: { input?: string; url?: string } = {}) =>
  runCli(args, { cwd, env: { DATABASE_URL: options.url ?? db.url, CI: '1' }, input: options.input })

describe.runIf(serverAvailable)('opsctl db explain and db plan-diff', () => {
  beforeAll(async () => {
    db = await createTestDatabase('explain_cli')
    pool = new pg.Pool({ connectionString: db.url, max: 1 })
    await migrate(pool)
    await seed(pool, { scale: 0.2 })
    hypopgAvailable = (await pool.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'`)).rowCount === 1
    await pool.query(`CREATE ROLE ${role} LOGIN`)
    cwd = makeTempDir('opsctl-explain-')
  })

  afterAll(async () => {
    await pool?.end()
    await db?.drop()
    const admin = new pg.Client({ connectionString: SERVER_URL })
    await admin.connect()
    await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end())
  })

  it('explains the /items?sku= query: plan tree, finding, verified index, and never the parameter value', () => {
    requireOrSkip(hypopgAvailable, 'the hypopg extension is not available on the server (Debian: postgresql-15-hypopg)')
    const result = opsctl(['db', 'explain', ITEMS_BY_SKU, '--param', 'SKU-00042'])
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/└─ Seq Scan on items  rows \d+ · filter removed [\d,]+/)
    expect(result.stdout).toMatch(/● (critical|warning) +#1 Seq Scan on items: Sequential scan of items reads 20,000 rows/)
    expect(result.stdout).toMatch(/\+ items \(sku\)  cost [\d.]+ → [\d.]+ \(-\d+\.\d%\)/)
    expect(result.stdout).toContain('CREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);')
    expect(result.stdout).not.toMatch(/\u001B\[/)
    expect(result.stdout + result.stderr).not.toContain('SKU-00042')
  })

  it('prints one JSON document with the model, findings and advice under --json', () => {
    const result = opsctl(['db', 'explain', ITEMS_BY_SKU, '--param', 'SKU-00042', '--json', '--no-advise'])
    expect(result.status).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report.source).toMatchObject({ kind: 'statement', statement: ITEMS_BY_SKU, analyzed: true, params: 1 })
    expect(report.plan.nodes.map((node: { label: string }) => node.label)).toEqual(['Sort', 'Seq Scan on items'])
    expect(report.findings.map((item: { code: string }) => item.code)).toEqual(['seq-scan-filter'])
    expect(report.advice).toBeNull()
    expect(result.stdout).not.toContain('SKU-00042')
  })

  it('prints only the CREATE INDEX CONCURRENTLY statements with --apply, and runs none', async () => {
    requireOrSkip(hypopgAvailable, 'the hypopg extension is not available on the server (Debian: postgresql-15-hypopg)')
    const result = opsctl(['db', 'explain', ITEMS_BY_SKU, '--param', 'SKU-00042', '--apply'])
    expect(result.status).toBe(0)
    expect(
      result.stdout
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('--')),
    ).toEqual(['CREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);'])
    const indexes = await pool.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'items' ORDER BY 1`)
    expect(indexes.rows.map((row) => row.indexname)).toEqual(['items_order_id_idx', 'items_pkey'])
  })

  it('explains an UPDATE read from stdin and leaves the rows as they were', async () => {
    const before = (await pool.query('SELECT sum(quantity)::int AS total, count(*)::int AS rows FROM items')).rows[0]
    const result = opsctl(['db', 'explain', '--no-advise'], { input: 'UPDATE items SET quantity = quantity + 1;\n' })
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/Update on items/)
    expect(result.stdout).toContain('The UPDATE ran inside a transaction that was rolled back: no rows were changed.')
    expect((await pool.query('SELECT sum(quantity)::int AS total, count(*)::int AS rows FROM items')).rows[0]).toEqual(before)
  })

  it('refuses several statements (exit 2)', () => {
    const result = opsctl(['db', 'explain', 'SELECT 1; DELETE FROM items'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('Error: Got 2 statements; opsctl explains exactly one at a time')
    expect(result.stdout).toBe('')
  })

  it('reports a syntax error with its position (exit 2)', () => {
    const result = opsctl(['db', 'explain', 'SELECT * FORM items'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('Error: Syntax error in the statement: syntax error at or near "FORM" at line 1, column 10')
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('reports an unreachable server (exit 3)', () => {
    const result = opsctl(['db', 'explain', 'SELECT 1'], { url: 'postgres://postgres:hunter2@127.0.0.1:1/postgres' })
    expect(result.status).toBe(3)
    expect(result.stderr).toMatch(/Error: Cannot connect to PostgreSQL at 127.0.0.1:1\/postgres/)
    expect(result.stderr).not.toContain('hunter2')
  })

  it('reports a permission error (exit 3)', () => {
    const url = new URL(db.url)
    url.username = role
    const result = opsctl(['db', 'explain', 'SELECT * FROM items', '--no-advise'], { url: url.toString() })
    expect(result.status).toBe(3)
    expect(result.stderr).toContain('Error: Permission denied: permission denied for table items')
  })

  it('refuses a truncated plan file, naming the file, line and column (exit 2)', () => {
    const file = join(cwd, 'truncated.json')
    writeFileSync(file, fixture('items-by-sku-seqscan-pg15.json').slice(0, 400))
    const result = opsctl(['db', 'explain', '--plan', file])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(new RegExp(`Error: Cannot read plan ${file}: truncated JSON, .* at line \\d+, column \\d+`))
    expect(result.stderr).toContain('Try: Capture it again with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)')
  })

  it('fails plan-diff (exit 1) when an index scan became a sequential scan', () => {
    const result = opsctl(['db', 'plan-diff', fixturePath('items-by-sku-index-pg15.json'), fixturePath('items-by-sku-seqscan-pg15.json')])
    expect(result.status).toBe(1)
    expect(result.stdout).toContain('items: Bitmap Heap Scan using items_sku_idx → Seq Scan  (index no longer used)')
    expect(result.stdout).toContain('Regression:')
    expect(result.stderr).toMatch(/^Failed: plan regression: total cost rose/)
  })

  it('compares a baseline plan file with the live statement', () => {
    const result = opsctl([
      'db',
      'plan-diff',
      '--baseline',
      fixturePath('items-by-sku-index-pg15.json'),
      ITEMS_BY_SKU,
      '--param',
      'SKU-00042',
      '--json',
    ])
    expect(result.status).toBe(1)
    const diff = JSON.parse(result.stdout)
    expect(diff.after.label).toBe('live statement')
    expect(diff.accessChanges).toEqual([expect.objectContaining({ relation: 'items', after: ['Seq Scan'], lostIndex: true })])
    expect(diff.regression).toBe(true)
  })
})
