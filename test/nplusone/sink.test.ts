// The live hook's JSON-lines sink: what it writes reads back through the service-log source
// exactly, batches survive several flushes, and close() writes everything queued.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { createJsonLinesSink, type QueryExecution } from '../../src/nplusone/index.js'
import { readServiceLog } from '../../src/nplusone/sources/service-log.js'

const dir = mkdtempSync(join(tmpdir(), 'opsctl-sink-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function readBack(path: string): Promise<{ executions: QueryExecution[]; failures: unknown[] }> {
  const executions: QueryExecution[] = []
  const failures: unknown[] = []
  await readServiceLog({ name: path, path }, { execution: (e) => executions.push(e), failure: (f) => failures.push(f) })
  return { executions, failures }
}

describe('createJsonLinesSink', () => {
  it('writes every field so that the service-log reader gets the same executions back', async () => {
    const path = join(dir, 'fields.jsonl')
    const sink = createJsonLinesSink(path, { includeParams: true })
    const unit = { kind: 'request' as const, id: 'a1-1', label: 'GET /users/:id/orders' }
    const written: QueryExecution[] = [
      {
        sql: 'SELECT 1',
        startMs: Date.UTC(2026, 10, 25, 12, 0, 0, 7),
        durationMs: 0.4126,
        rows: 1,
        unit,
        callSite: 'src/store.ts:3:9 (load)',
      },
      {
        sql: 'SELECT "quoted"\n  FROM t -- \u2028 and \\ too',
        startMs: Date.UTC(2026, 10, 25, 12, 0, 0, 99),
        durationMs: 12,
        rows: 0,
        unit,
        params: ['42', 'NULL'],
      },
      { sql: 'SELECT 2', startMs: Date.UTC(2026, 10, 25, 12, 0, 1, 100), durationMs: 3.5, session: '4242' },
      {
        sql: 'SELECT * FROM nope',
        startMs: Date.UTC(2026, 10, 25, 23, 59, 59, 999),
        durationMs: 0.1,
        error: 'relation "nope" does not exist',
        errorCode: '42P01',
      },
      { sql: 'SELECT 3' },
    ]
    for (const execution of written) sink.write(execution)
    await sink.close()
    const { executions, failures } = await readBack(path)
    const expected = written
      .filter((e) => !e.error)
      .map((e) => ({ ...e, ...(e.durationMs !== undefined ? { durationMs: Math.round(e.durationMs * 1000) / 1000 } : {}) }))
    expect(executions).toEqual(expected)
    expect(failures).toEqual([{ message: 'relation "nope" does not exist', code: '42P01', sql: 'SELECT * FROM nope' }])
    for (const line of readFileSync(path, 'utf8').trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow()
  })

  it('leaves parameter values out unless asked', async () => {
    const path = join(dir, 'params.jsonl')
    const sink = createJsonLinesSink(path)
    sink.write({ sql: 'SELECT $1', params: ['secret'] })
    await sink.close()
    expect(readFileSync(path, 'utf8')).not.toContain('secret')
  })

  it('writes in batches while the service runs and everything on close, in order', async () => {
    const path = join(dir, 'batches.jsonl')
    const sink = createJsonLinesSink(path)
    for (let i = 0; i < 2000; i++) sink.write({ sql: `SELECT ${i}`, durationMs: 1 })
    // The batches the size limit starts, and the timer's, reach the disk before close().
    const lines = () => readFileSync(path, 'utf8').split('\n').length - 1
    for (let waited = 0; lines() < 2000 && waited < 30_000; waited += 50) await sleep(50)
    expect(lines()).toBe(2000)
    for (let i = 2000; i < 2100; i++) sink.write({ sql: `SELECT ${i}`, durationMs: 1 })
    await sink.close()
    sink.write({ sql: 'SELECT after close' })
    const { executions } = await readBack(path)
    expect(executions.map((e) => e.sql)).toEqual(Array.from({ length: 2100 }, (_, i) => `SELECT ${i}`))
    expect(sink.dropped).toBe(0)
  })

  it('writes every text exactly, across batches, past the renumbering of texts, long texts included', async () => {
    const path = join(dir, 'texts.jsonl')
    const sink = createJsonLinesSink(path)
    const long = `SELECT * FROM items WHERE id IN (${Array.from({ length: 400 }, (_, i) => i).join(', ')})`
    const written: string[] = []
    for (let i = 0; i < 12_000; i++) written.push(i % 10 === 0 ? 'SELECT 1' : i % 1000 === 5 ? long : `SELECT ${i}`)
    for (const sql of written) sink.write({ sql })
    await sink.close()
    expect((await readBack(path)).executions.map((e) => e.sql)).toEqual(written)
  })

  it('drops and counts what a full disk refuses, without failing the service', async () => {
    const sink = createJsonLinesSink('/dev/full')
    for (let i = 0; i < 10; i++) sink.write({ sql: `SELECT ${i}`, durationMs: 1 })
    await sink.close()
    expect(sink.dropped).toBe(10)
  })

  it('does not keep the process alive, writes everything when closed, and prints nothing', () => {
    const path = join(dir, 'child.jsonl')
    const script = (close: boolean) => `
      import { createJsonLinesSink } from ${JSON.stringify(new URL('../../src/nplusone/index.ts', import.meta.url).href)}
      const sink = createJsonLinesSink(${JSON.stringify(path)})
      for (let i = 0; i < 3; i++) sink.write({ sql: 'SELECT ' + i })
      ${close ? 'await sink.close()' : ''}`
    for (const close of [false, true]) {
      // A preload of the service's (an OpenTelemetry SDK, say) must not run again in the writer thread.
      const preload =
        'data:text/javascript,import { isMainThread } from "node:worker_threads"; if (!isMainThread) console.error("preload ran in a worker")'
      const child = spawnSync(process.execPath, ['--import', preload, '--import', 'tsx', '--input-type=module', '-e', script(close)], {
        encoding: 'utf8',
        timeout: 30_000,
      })
      expect(child.status, child.stderr).toBe(0)
      expect(child.stderr).toBe('')
    }
    // The first process ended before its batch was due; the second closed the sink.
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3)
  })

  it.each([
    {
      case: 'fails to load',
      thread: 'throw new Error("the writer module did not load")',
      said: "The query log's writer thread did not start (the writer module did not load); writing on the service's thread.",
    },
    {
      case: 'never gets ready',
      thread: 'setInterval(() => {}, 1000)',
      said: "The query log's writer thread had not started after 5s; writing on the service's thread.",
    },
  ])('writes on the service thread, losing nothing, when its writer thread $case, and says so', ({ thread, said }) => {
    const path = join(dir, `no-thread-${randomBytes(4).toString('hex')}.jsonl`)
    // Every Worker this process starts runs `thread` instead of the writer module.
    const script = `
      import { createRequire, syncBuiltinESMExports } from 'node:module'
      const threads = createRequire(import.meta.url)('node:worker_threads')
      const Real = threads.Worker
      threads.Worker = class extends Real {
        constructor(_, options) { super(${JSON.stringify(thread)}, { ...options, eval: true }) }
      }
      syncBuiltinESMExports()
      const { createJsonLinesSink } = await import(${JSON.stringify(new URL('../../src/nplusone/index.ts', import.meta.url).href)})
      const sink = createJsonLinesSink(${JSON.stringify(path)}, { onError: (message) => console.log('onError: ' + message) })
      for (let i = 0; i < 5000; i++) sink.write({ sql: 'SELECT ' + (i % 7), durationMs: 1 })
      await sink.close()
      console.log('dropped: ' + sink.dropped)`
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(child.status, child.stderr).toBe(0)
    expect(child.stdout.split('\n')).toContain(`onError: ${said}`)
    expect(child.stdout).toMatch(/^dropped: 0$/m)
    const lines = readFileSync(path, 'utf8').trim().split('\n')
    expect(lines.map((line) => (JSON.parse(line) as { sql: string }).sql)).toEqual(
      Array.from({ length: 5000 }, (_, i) => `SELECT ${i % 7}`),
    )
  })

  it('says once that the disk refused a write', async () => {
    const messages: string[] = []
    const sink = createJsonLinesSink('/dev/full', { onError: (message) => messages.push(message) })
    for (let i = 0; i < 5000; i++) sink.write({ sql: `SELECT ${i}` })
    await sink.close()
    expect(sink.dropped).toBe(5000)
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(
      /^The query log \/dev\/full stopped: ENOSPC: no space left on device, write\. Later records are dropped and counted\.$/,
    )
  })

  it('appends to an existing log and creates missing directories', async () => {
    const path = join(dir, 'nested', 'deeper', 'append.jsonl')
    for (const sql of ['SELECT 1', 'SELECT 2']) {
      const sink = createJsonLinesSink(path)
      sink.write({ sql })
      await sink.close()
    }
    expect((await readBack(path)).executions.map((e) => e.sql)).toEqual(['SELECT 1', 'SELECT 2'])
  })
})
