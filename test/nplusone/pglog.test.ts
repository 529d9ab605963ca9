import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findNPlusOne, loadQueryParser, renderNPlusOneReport, summarizeStatements, type QueryExecution } from '../../src/nplusone/index.js'
import { TimestampParser, compilePrefix } from '../../src/nplusone/sources/pglog/prefix.js'
import { readPgLog, sniffLogFormat } from '../../src/nplusone/sources/pglog/read.js'
import type { QueryFailure } from '../../src/nplusone/types.js'

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname
const ITEMS = 'SELECT id, sku, quantity FROM items WHERE order_id = $1 ORDER BY id'
const INSERT_ITEMS = 'INSERT INTO items (order_id, sku, quantity) VALUES ($1, $2, $3)'
const LOG_STATEMENT_ITEMS = 'SELECT sku FROM items WHERE order_id = $1'

let dir: string
beforeAll(async () => {
  await loadQueryParser()
  dir = mkdtempSync(join(tmpdir(), 'opsctl-pglog-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function collect(path: string, options: Parameters<typeof readPgLog>[2] = {}) {
  const executions: QueryExecution[] = []
  const failures: QueryFailure[] = []
  const ended: string[] = []
  const summary = await readPgLog(
    { name: path, path },
    { execution: (e) => executions.push(e), failure: (f) => failures.push(f), endSession: (s) => ended.push(s) },
    options,
  )
  return { executions, failures, ended, summary }
}

describe.each([
  ['stderr with the Debian prefix', 'shop.log', 'stderr'],
  ['csvlog', 'shop.csv', 'csvlog'],
  ['jsonlog', 'shop.json', 'jsonlog'],
])('a real PostgreSQL 15 log, %s', (_name, file, format) => {
  it('is read completely: every statement, error and disconnection, nothing skipped', async () => {
    const { executions, failures, ended, summary } = await collect(join(FIXTURES, file))
    expect(summary).toMatchObject({ kind: 'log', format, statements: 34, errors: 2, skipped: { lines: 0 } })
    expect(executions).toHaveLength(34)
    expect(failures.map((failure) => failure.sql)).toEqual(['SELECT 1/0', 'SELEC broken FROM nowhere'])
    expect(ended.length).toBeGreaterThanOrEqual(10)
    // The extended protocol: execute lines count, parse and bind steps do not.
    expect(executions.filter((e) => e.sql === ITEMS)).toHaveLength(6)
    // log_statement = 'all' with log_duration: the statement line gets the duration line that follows.
    const logged = executions.filter((e) => e.sql === LOG_STATEMENT_ITEMS)
    expect(logged).toHaveLength(5)
    for (const execution of logged) expect(execution.durationMs).toBeGreaterThan(0)
    // A multi-line statement keeps its lines.
    expect(executions.some((e) => e.sql === "SELECT id,\n       sku\nFROM items\nWHERE sku = 'SKU-1'")).toBe(true)
    // Parameters are kept only when asked for.
    expect(JSON.stringify(executions)).not.toContain('alice-secret@example.test')
    const withParams = await collect(join(FIXTURES, file), { params: true })
    expect(withParams.executions.find((e) => e.sql.includes('email = $1'))?.params).toEqual(["'alice-secret@example.test'"])
  })

  it('shows the two N+1 patterns and the one inside a transaction, and nothing else', async () => {
    const report = await findNPlusOne({ logs: [join(FIXTURES, file)] })
    const bySql = new Map(report.patterns.map((pattern) => [pattern.sql, pattern]))
    expect([...bySql.keys()].sort()).toEqual([INSERT_ITEMS, LOG_STATEMENT_ITEMS, ITEMS].sort())
    expect(bySql.get(ITEMS)).toMatchObject({
      executions: 6,
      units: 1,
      producer: { sql: 'SELECT id FROM orders WHERE user_id = $1 ORDER BY id' },
    })
    expect(bySql.get(INSERT_ITEMS)).toMatchObject({
      executions: 5,
      producer: { sql: 'INSERT INTO orders (user_id) VALUES ($1) RETURNING id' },
    })
    expect(bySql.get(ITEMS)!.worstUnit.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(JSON.stringify(report)).not.toContain('alice-secret')
  })

  it('summarises statements and errors for db top', async () => {
    const report = await summarizeStatements({ logs: [join(FIXTURES, file)] }, { limit: 50 })
    expect(report.totals).toMatchObject({ calls: 34, errors: 2 })
    const items = report.statements.find((statement) => statement.sql === ITEMS)!
    expect(items).toMatchObject({ calls: 6, timedCalls: 6, errors: 0 })
    expect(items.p95Ms).toBeGreaterThan(0)
    expect(report.errors.map((error) => error.message).sort()).toEqual([
      'division by zero',
      expect.stringMatching(/^syntax error at or near/),
    ])
  })
})

describe('stderr logs', () => {
  it('read any log_line_prefix given in PostgreSQL escapes', async () => {
    const lines = [
      '2024-05-01 10:00:00 CEST [101]: [1-1] user=app,db=shop,app=api,client=10.0.0.1 LOG:  duration: 0.500 ms  statement: SELECT * FROM items WHERE order_id = 1',
      ...Array.from(
        { length: 5 },
        (_, i) =>
          `2024-05-01 10:00:00 CEST [101]: [${i + 2}-1] user=app,db=shop,app=api,client=10.0.0.1 LOG:  duration: 0.200 ms  statement: SELECT * FROM items WHERE order_id = ${i + 2}`,
      ),
      '2024-05-01 10:00:01 CEST [7]: [1-1] user=,db=,app=,client= LOG:  checkpoint starting: time',
    ]
    const path = join(dir, 'custom.log')
    writeFileSync(path, `${lines.join('\n')}\n`)
    const { executions, summary } = await collect(path, { prefix: '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ' })
    expect(summary.skipped.lines).toBe(0)
    expect(executions).toHaveLength(6)
    expect(executions[0]).toMatchObject({ session: '101', origin: 'app@shop (api)', durationMs: 0.5, endMs: Date.UTC(2024, 4, 1, 8, 0, 0) })
  })

  it('group by %c session ids when the prefix has them', () => {
    const prefix = compilePrefix('%m %c %e ')
    const match = prefix.pattern.exec('2024-05-01 10:00:00.123 UTC 6630f1c2.4c1 42P01 ERROR:  relation "nope" does not exist')!
    expect(match[prefix.groups.session!]).toBe('6630f1c2.4c1')
    expect(match[prefix.groups.sqlstate!]).toBe('42P01')
    expect(match[prefix.severityGroup]).toBe('ERROR')
  })

  it('refuse a prefix without %p or %c, and unknown escapes, with a hint', async () => {
    const path = join(dir, 'one.log')
    writeFileSync(path, '2024-05-01 10:00:00 UTC LOG:  statement: SELECT 1\n')
    await expect(collect(path, { prefix: '%t ' })).rejects.toMatchObject({ exit: 2, message: expect.stringContaining('neither %p nor %c') })
    expect(() => compilePrefix('%t [%p] %Z ')).toThrow(/unknown escape %Z/)
  })

  it('count lines they cannot read, with the reason and the first places', async () => {
    const path = join(dir, 'noisy.log')
    writeFileSync(
      path,
      [
        '2024-05-01 10:00:00.000 UTC [5] app@shop LOG:  duration: 0.1 ms  statement: SELECT 1',
        'garbage that is not a log line',
        '\tcontinuation of the statement above',
        '2024-05-01 10:00:00.0',
        '2024-05-01 10:00:00.001 UTC [5] app@shop LOG:  duration: 0.1 ms  statement: SELECT 2',
      ].join('\n'),
    )
    const { executions, summary } = await collect(path)
    expect(executions.map((e) => e.sql)).toEqual(['SELECT 1\ncontinuation of the statement above', 'SELECT 2'])
    expect(summary.skipped).toMatchObject({ lines: 2, reasons: { 'no prefix match': 2 } })
    expect(summary.skipped.examples[0]!.at).toMatch(/noisy\.log:2$/)
  })

  it('are read from gzip, from globs and from stdin', async () => {
    const text = readFileSync(join(FIXTURES, 'shop.log'))
    writeFileSync(join(dir, 'rotated-1.log.gz'), gzipSync(text))
    writeFileSync(join(dir, 'rotated-2.log'), text)
    const report = await findNPlusOne({ logs: [join(dir, 'rotated-*')] })
    expect(report.sources.map((source) => source.statements)).toEqual([34, 34])
    expect(report.patterns.find((pattern) => pattern.sql === ITEMS)?.units).toBe(2)

    const fromStdin = await findNPlusOne({ logs: ['-'] }, { stdin: Readable.from([gzipSync(text)]) })
    expect(fromStdin.sources[0]).toMatchObject({ name: 'stdin', statements: 34 })
  })
})

describe('log formats and timestamps', () => {
  it('are sniffed from the first line', () => {
    expect(sniffLogFormat('2024-05-01 10:00:00.000 UTC [5] LOG:  starting PostgreSQL 15.6 on x86_64, compiled by gcc, 64-bit')).toBe(
      'stderr',
    )
    expect(sniffLogFormat('2024-05-01 10:00:00.000 UTC,"app","shop",5,"10.0.0.1:5000",6630f1c2.5,1,"SELECT",...')).toBe('csvlog')
    expect(sniffLogFormat('{"timestamp":"2024-05-01 10:00:00.000 UTC","pid":5}')).toBe('jsonlog')
  })

  it('read time zones as PostgreSQL writes them', () => {
    const times = new TimestampParser()
    expect(times.parse('2024-05-01 10:00:00.250 UTC')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 250))
    expect(times.parse('2024-05-01 10:00:00.250 CEST')).toBe(Date.UTC(2024, 4, 1, 8, 0, 0, 250))
    expect(times.parse('2024-05-01 10:00:00 +05:30')).toBe(Date.UTC(2024, 4, 1, 4, 30, 0))
    expect(times.parse('2024-05-01 10:00:00 -03')).toBe(Date.UTC(2024, 4, 1, 13, 0, 0))
    expect(times.parse('2024-05-01 10:00:00 XYZT')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0))
    expect([...times.unknownZones]).toEqual(['XYZT'])
  })
})

describe('reports', () => {
  it('render as Markdown with each pattern, its producer and its fix, and no parameter values', async () => {
    const report = await findNPlusOne({ logs: [join(FIXTURES, 'shop.csv')] })
    const markdown = renderNPlusOneReport(report, undefined, 'markdown')
    expect(markdown).toContain('## N+1 queries: 3 patterns')
    expect(markdown).toContain('| 3 | `SELECT id, sku, quantity FROM items WHERE order_id = $1 ORDER BY id` | 6 | 1 | 6 |')
    expect(markdown).toContain('SELECT order_id, id, sku, quantity FROM items WHERE order_id = ANY($1) ORDER BY order_id, id')
    expect(markdown).not.toContain('alice-secret')
    const table = renderNPlusOneReport(report)
    expect(table).toMatch(/^3 N\+1 patterns\n\n#\s+Executions\s+Units/)
    expect(table).toContain('ids from     SELECT id FROM orders WHERE user_id = $1 ORDER BY id')
  })
})
