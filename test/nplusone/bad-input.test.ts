// Malformed, truncated, binary and wrong-format input: a clear error (exit 2, naming the file
// and the line) or lines counted as skipped with a summary; never a crash, never a silent empty result.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findNPlusOne, loadQueryParser, summarizeStatements } from '../../src/nplusone/index.js'

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname
let dir: string

beforeAll(async () => {
  await loadQueryParser()
  dir = mkdtempSync(join(tmpdir(), 'opsctl-bad-input-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

const shopLog = () => readFileSync(join(FIXTURES, 'shop.log'))

describe('server logs', () => {
  it('of another format (an access log) are an error naming the file, the first line and the prefix to give', async () => {
    const path = file('access.log', '127.0.0.1 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 612\n'.repeat(20))
    await expect(findNPlusOne({ logs: [path] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringMatching(
        /No line of .*access\.log could be read as a PostgreSQL log in stderr format \(20 lines skipped; .*access\.log:1: no prefix match/,
      ),
      hint: expect.stringContaining('--prefix'),
    })
  })

  it('with a different log_line_prefix than given are an error that says so', async () => {
    await expect(findNPlusOne({ logs: [join(FIXTURES, 'shop.log')] }, { prefix: '%t [%p]: user=%u,db=%d ' })).rejects.toMatchObject({
      exit: 2,
      hint: expect.stringContaining('SHOW log_line_prefix'),
    })
  })

  it('that are OTLP traces are an error pointing to --otlp', async () => {
    const path = file('traces.json', '{"resourceSpans":[]}\n')
    await expect(findNPlusOne({ logs: [path] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('looks like OpenTelemetry traces'),
      hint: expect.stringContaining('--otlp'),
    })
  })

  it('that are binary are an error naming the line of the first NUL byte', async () => {
    const path = file('image.png', Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n'), Buffer.alloc(64), Buffer.from('IHDR')]))
    await expect(findNPlusOne({ logs: [path] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringMatching(/image\.png is binary, not a text log: NUL byte at line 3/),
    })
  })

  it('with binary junk in the middle have those lines counted as skipped, the rest read', async () => {
    const text = shopLog().toString('utf8')
    const lines = text.split('\n')
    // Past the first 8000 bytes, where a NUL byte says "binary file" (git's rule).
    lines.splice(120, 0, 'garbage \u0000\u0001\u0002 from a crashed disk', '\uFFFD\uFFFD\uFFFD')
    const report = await findNPlusOne({ logs: [file('junk.log', lines.join('\n'))] })
    expect(report.sources[0]!.skipped).toMatchObject({ lines: 2, reasons: { 'binary data': 2 } })
    expect(report.patterns).toHaveLength(3)
    expect(report.warnings.join('\n')).toMatch(/junk\.log: skipped 2 of \d+ lines \(2 binary data\); first at .*junk\.log:121/)
  })

  it('truncated in the middle of a line keep what came before', async () => {
    const text = shopLog()
    const cut = text.subarray(0, text.indexOf('SELECT value FROM settings') + 10)
    const report = await findNPlusOne({ logs: [file('cut.log', cut)] })
    expect(report.patterns.map((pattern) => pattern.executions).sort()).toEqual([5, 6])
  })

  it('gzipped and truncated are an error naming the file and how far it got', async () => {
    const gz = gzipSync(Buffer.concat(Array(20).fill(shopLog())))
    const path = file('cut.log.gz', gz.subarray(0, Math.floor(gz.length / 2)))
    await expect(findNPlusOne({ logs: [path] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringMatching(/cut\.log\.gz: the gzip data is corrupt or truncated after line \d+/),
    })
  })

  it('in csvlog format cut inside a quoted field count the truncated record as skipped', async () => {
    const csv = readFileSync(join(FIXTURES, 'shop.csv'), 'utf8')
    const at = csv.lastIndexOf("SELECT 'opsctl-capture-done'")
    expect(at).toBeGreaterThan(0)
    const report = await findNPlusOne({ logs: [file('cut.csv', csv.slice(0, at + 10))] })
    expect(report.sources[0]!.skipped.reasons).toEqual({ 'truncated record (unterminated quoted field at end of file)': 1 })
    expect(report.patterns).toHaveLength(3)
  })

  it('in jsonlog format with a malformed line count it as skipped', async () => {
    const json = readFileSync(join(FIXTURES, 'shop.json'), 'utf8').split('\n')
    json[50] = json[50]!.slice(0, 40)
    json[51] = '{"not":"a log record"}'
    const report = await findNPlusOne({ logs: [file('bad.json', json.join('\n'))] })
    expect(report.sources[0]!.skipped).toMatchObject({ lines: 2, reasons: { 'invalid JSON': 1, 'not a jsonlog record': 1 } })
  })

  it('without any statement are an error saying which settings to turn on', async () => {
    const path = file(
      'quiet.log',
      '2024-05-01 10:00:00.000 UTC [7] LOG:  checkpoint starting: time\n2024-05-01 10:00:01.000 UTC [7] LOG:  checkpoint complete\n',
    )
    await expect(findNPlusOne({ logs: [path] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('No SQL statements found'),
      hint: expect.stringContaining('log_min_duration_statement = 0'),
    })
    await expect(summarizeStatements({ logs: [file('empty.log', '')] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('No SQL statements found'),
    })
  })

  it('that do not exist, or a glob that matches nothing, are an error', async () => {
    await expect(findNPlusOne({ logs: [join(dir, 'missing.log')] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('no such file'),
    })
    await expect(findNPlusOne({ logs: [join(dir, 'nothing-*.log')] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('No file matches'),
    })
    await expect(findNPlusOne({})).rejects.toMatchObject({ exit: 2, message: 'No input given' })
  })
})

describe('OTLP traces', () => {
  const doc = JSON.stringify(
    {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: Array.from({ length: 5 }, (_, i) => ({
                traceId: 'f'.repeat(32),
                spanId: String(i).padStart(16, '0'),
                parentSpanId: 'e'.repeat(16),
                name: 'pg.query',
                startTimeUnixNano: String(1_714_550_400_000_000_000 + i * 1_000_000),
                endTimeUnixNano: String(1_714_550_400_000_500_000 + i * 1_000_000),
                attributes: [
                  { key: 'db.system', value: { stringValue: 'postgresql' } },
                  { key: 'db.statement', value: { stringValue: `SELECT * FROM items WHERE order_id = ${i}` } },
                ],
              })),
            },
          ],
        },
      ],
    },
    null,
    2,
  )

  it('cut short are an error naming where the document ends', async () => {
    const path = file('cut.otlp.json', doc.slice(0, doc.length / 2))
    await expect(findNPlusOne({ otlp: [path] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringMatching(/cut\.otlp\.json as OTLP JSON: the document starting at line 1 is cut short: it ends at line \d+/),
    })
  })

  it('as JSON lines with a broken line count it as skipped and read the rest', async () => {
    const line = JSON.stringify(JSON.parse(doc))
    const report = await findNPlusOne({ otlp: [file('lines.jsonl', `${line}\n${line.slice(0, 100)}\n`)] })
    expect(report.sources[0]!.skipped).toMatchObject({ lines: 1, reasons: { 'invalid JSON': 1 } })
    expect(report.patterns).toHaveLength(1)
  })

  it('that are something else are an error', async () => {
    await expect(findNPlusOne({ otlp: [join(FIXTURES, 'shop.log')] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('is not OTLP JSON traces'),
    })
    await expect(findNPlusOne({ otlp: [file('other.json', '{"hello":"world"}\n')] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('no resourceSpans'),
    })
    await expect(findNPlusOne({ otlp: [file('empty.json', '')] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('is empty'),
    })
  })

  it('without database spans are an error saying what the spans need', async () => {
    const path = file(
      'http-only.json',
      JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '1'.repeat(32), spanId: '1'.repeat(16), name: 'GET /', kind: 2 }] }] }],
      }),
    )
    await expect(findNPlusOne({ otlp: [path] })).rejects.toMatchObject({ exit: 2, hint: expect.stringContaining('db.query.text') })
  })
})

describe('service query logs', () => {
  it('that are something else are an error; broken lines are counted', async () => {
    await expect(findNPlusOne({ serviceLogs: [join(FIXTURES, 'shop.log')] })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('is not an opsctl query log'),
    })
    const line = (i: number) => JSON.stringify({ sql: `SELECT * FROM items WHERE order_id = ${i}`, unit: { kind: 'request', id: 'r1' } })
    const report = await findNPlusOne({ serviceLogs: [file('queries.jsonl', [0, 1, 2, 3, 4].map(line).join('\n') + '\n{"sql": "SELECT')] })
    expect(report.sources[0]!.skipped.lines).toBe(1)
    expect(report.patterns).toHaveLength(1)
  })
})
