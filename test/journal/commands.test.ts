import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type JournalEvent, type JournalStore } from '../../src/journal/index.js'
import { FileJournal } from '../../src/journal/file-store.js'
import { PgJournal } from '../../src/journal/pg-store.js'
import { decodeLine } from '../../src/journal/line.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { jsonLines, opsctl, startOpsctl } from './cli.js'
import { collect, tempDir, type TempDir } from './fixtures.js'

let work: TempDir
let database: TestDatabase

beforeAll(async () => {
  work = tempDir('opsctl-journal-cli-')
  database = await createTestDatabase('journal_cli')
})

afterAll(async () => {
  work?.remove()
  await database?.drop()
})

let counter = 0
/** A fresh journal directory and the environment that points opsctl at it. */
function fileJournal() {
  const dir = join(work.path, `journal-${++counter}`)
  return { dir, env: { OPSCTL_JOURNAL_DIR: dir } }
}

function fileStore(dir: string): FileJournal {
  return new FileJournal({ dir, durable: true, segmentSize: 64 * 1024 * 1024 })
}

async function readAll(store: JournalStore): Promise<JournalEvent[]> {
  try {
    return await collect(store.read())
  } finally {
    await store.close()
  }
}

const noteLine = (message: string, extra: Record<string, unknown> = {}) => ({ kind: 'note', subject: 'api', data: { message, ...extra } })

describe('opsctl journal append from eight processes at once', () => {
  const WRITERS = 8
  const EACH = 1000
  const input = (writer: number) =>
    jsonLines(Array.from({ length: EACH }, (_, seq) => noteLine(`writer ${writer} event ${seq}`, { writer, seq })))

  async function appendConcurrently(env: NodeJS.ProcessEnv) {
    // --chunk 25: forty separate locked writes per process, interleaving with the others.
    const runs = await Promise.all(
      Array.from({ length: WRITERS }, (_, writer) =>
        opsctl(['journal', 'append', '--stdin', '--chunk', '25'], { cwd: work.path, env, input: input(writer) }),
      ),
    )
    for (const run of runs) {
      expect(run.stderr).toContain(`Appended ${EACH} events`)
      expect(run.status).toBe(0)
      expect(run.stdout.trim().split('\n')).toHaveLength(EACH)
    }
    return runs.flatMap((run) => run.stdout.trim().split('\n'))
  }

  function expectAllEvents(events: JournalEvent[], acknowledged: string[]) {
    expect(events).toHaveLength(WRITERS * EACH)
    expect(new Set(events.map((e) => e.id)).size).toBe(WRITERS * EACH)
    expect(events.map((e) => e.id)).toEqual([...acknowledged].sort())
    const pairs = new Set(events.map((e) => `${e.data.writer}:${e.data.seq}`))
    expect(pairs.size).toBe(WRITERS * EACH)
  }

  it('gives exactly 8,000 whole events in the file store, none torn or interleaved', async () => {
    const { dir, env } = fileJournal()
    const acknowledged = await appendConcurrently(env)
    let lines = 0
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n').slice(0, -1)) {
        lines++
        expect(decodeLine(line).ok).toBe(true)
      }
    }
    expect(lines).toBe(WRITERS * EACH)
    expect(existsSync(join(dir, 'journal.lock'))).toBe(false)
    expectAllEvents(await readAll(fileStore(dir)), acknowledged)
    const verify = await opsctl(['journal', 'verify'], { cwd: work.path, env })
    expect(verify.stdout).toContain('8000 intact events')
    expect(verify.status).toBe(0)
  })

  it('gives exactly 8,000 events in the PostgreSQL store', async () => {
    const acknowledged = await appendConcurrently({ OPSCTL_JOURNAL_URL: database.url })
    expectAllEvents(await readAll(await PgJournal.open({ url: database.url, durable: true })), acknowledged)
  })
})

describe('a writer killed with SIGKILL in the middle of a large append', () => {
  it.each([
    ['a validated batch, acknowledged chunk by chunk', ['--stdin', '--chunk', '20'], true],
    ['a stream, acknowledged as it is written', ['--stream', '--chunk', '20'], false],
  ])('%s: at most a torn last line, every acknowledged event there', async (_name, flags, appendAfter) => {
    const { dir, env } = fileJournal()
    const input = jsonLines(Array.from({ length: 20_000 }, (_, seq) => noteLine(`event ${seq} ${'x'.repeat(200)}`, { seq })))
    const { child, done } = startOpsctl(['journal', 'append', ...flags], { cwd: work.path, env, input })
    let acknowledged = ''
    child.stdout!.on('data', (chunk: string) => {
      acknowledged += chunk
      if (acknowledged.split('\n').length > 1000) child.kill('SIGKILL')
    })
    const run = await done
    expect(run.signal).toBe('SIGKILL')
    const ids = run.stdout.split('\n').slice(0, -1) // only complete lines were acknowledged
    expect(ids.length).toBeGreaterThanOrEqual(1000)

    const store = fileStore(dir)
    const report = await store.verify()
    expect(report.damaged.length).toBeLessThanOrEqual(1)
    for (const damage of report.damaged) expect(damage.reason).toMatch(/incomplete last line/)
    const present = new Set((await readAll(store)).map((e) => e.id))
    expect(ids.filter((id) => !present.has(id))).toEqual([])
    expect(present.size).toBeLessThan(20_000)

    if (!appendAfter) return
    // The next writer starts on a line of its own, and everything stays readable.
    const next = await opsctl(['journal', 'append', '--kind', 'note', '--subject', 'api', '--message', 'after the crash'], {
      cwd: work.path,
      env,
    })
    expect(next.status).toBe(0)
    const after = await readAll(fileStore(dir))
    expect(after.map((e) => e.id)).toContain(next.stdout.trim())
    expect(after).toHaveLength(present.size + 1)
  })
})

describe('a line corrupted by hand in the middle of a segment', () => {
  it('is reported with file and line; the events before and after it are still listed', async () => {
    const { dir, env } = fileJournal()
    const append = await opsctl(['journal', 'append'], {
      cwd: work.path,
      env,
      input: jsonLines(['one', 'two', 'three', 'four'].map((m) => noteLine(m))),
    })
    expect(append.status).toBe(0)
    const file = join(dir, 'journal-000001.jsonl')
    writeFileSync(file, readFileSync(file, 'utf8').replace('"message":"two"', '"message":"tw0"'))
    appendFileSync(file, '{"v":1,"id":"01M8') // and a torn tail, as a crashed writer leaves it

    const [list, json, verify] = await Promise.all([
      opsctl(['journal'], { cwd: work.path, env }),
      opsctl(['journal', '--json'], { cwd: work.path, env }),
      opsctl(['journal', 'verify'], { cwd: work.path, env }),
    ])
    expect(list.status).toBe(0)
    expect(list.stdout).toMatch(/one[\s\S]*three[\s\S]*four/)
    expect(list.stdout).not.toMatch(/tw[o0]/)
    expect(list.stderr).toMatch(/journal-000001\.jsonl:2: checksum mismatch/)
    expect(list.stderr).toMatch(/journal-000001\.jsonl:5: incomplete last line/)
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as JournalEvent).data.message),
    ).toEqual(['one', 'three', 'four'])
    expect(verify.status).toBe(1)
    expect(verify.stdout).toMatch(/journal-000001\.jsonl:2: checksum mismatch[\s\S]*journal-000001\.jsonl:5: incomplete last line/)
    expect(verify.stderr).toMatch(/2 damaged in the journal/)
  })
})

describe('opsctl journal copy', () => {
  it('files -> PostgreSQL -> files gives the same events, and running it twice duplicates nothing', async () => {
    const source = fileJournal()
    const target = fileJournal()
    const db = await createTestDatabase('journal_copy')
    try {
      const lines = [
        noteLine('first'),
        {
          kind: 'deploy.step',
          subject: 'api',
          data: { step: 1, weight: 10, extra: { b: [1, 2], a: 'é' } },
          links: { rollout: 'R-1', commit: 'abc123' },
        },
        { kind: 'flag.changed', subject: 'checkout', data: { flag: 'checkout-v2', change: 'enabled', from: false, to: true } },
        { kind: 'incident.opened', subject: 'INC-1', data: { title: 'Errors', severity: 'SEV2' }, time: '2026-01-01T00:00:00+01:00' },
      ]
      expect((await opsctl(['journal', 'append'], { cwd: work.path, env: source.env, input: jsonLines(lines) })).status).toBe(0)
      const copy = (from: string, to: string) => opsctl(['journal', 'copy', '--from', from, '--to', to, '--json'], { cwd: work.path })
      const summaries = []
      for (const [from, to] of [
        [source.dir, db.url],
        [source.dir, db.url],
        [db.url, target.dir],
        [db.url, target.dir],
      ] as const) {
        const run = await copy(from, to)
        expect(run.stderr).toBe('')
        expect(run.status).toBe(0)
        summaries.push(JSON.parse(run.stdout) as { read: number; appended: number; skipped: number })
      }
      expect(summaries.map((s) => [s.read, s.appended, s.skipped])).toEqual([
        [4, 4, 0],
        [4, 0, 4],
        [4, 4, 0],
        [4, 0, 4],
      ])
      const original = await readAll(fileStore(source.dir))
      expect(await readAll(fileStore(target.dir))).toEqual(original)
      expect(await readAll(await PgJournal.open({ url: db.url, durable: true }))).toEqual(original)
      // Byte for byte: the lines are canonical.
      expect(readFileSync(join(target.dir, 'journal-000001.jsonl'), 'utf8').split('\n').sort()).toEqual(
        readFileSync(join(source.dir, 'journal-000001.jsonl'), 'utf8').split('\n').sort(),
      )
    } finally {
      await db.drop()
    }
  })
})

describe.concurrent('malformed input to opsctl journal append', () => {
  const good = JSON.stringify(noteLine('fine'))
  const cases: Array<[string, string, RegExp]> = [
    ['a line that is not JSON', `${good}\n{"kind": "note",\n${good}\n`, /line 2: not valid JSON/],
    ['an unknown kind', `${good}\n${good}\n{"kind":"deploy.exploded","subject":"api"}\n`, /line 3: unknown kind "deploy.exploded"/],
    ['a missing field', `{"kind":"note","data":{"message":"no subject"}}\n${good}\n`, /line 1: missing field "subject"/],
    ['a missing data field', `${good}\n{"kind":"deploy.step","subject":"api","data":{"step":1}}\n`, /line 2: missing field "data.weight"/],
    ['a huge line', `${good}\n${JSON.stringify(noteLine('x'.repeat(1_100_000)))}\n${good}\n`, /line 2: longer than 1\.0MB/],
  ]

  it.each(cases)('%s: exit 2, the line number, nothing written', async (_name, input, message) => {
    const { dir, env } = fileJournal()
    const run = await opsctl(['journal', 'append', '--stdin'], { cwd: work.path, env, input })
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(run.stderr).toMatch(/nothing was written/)
    expect(run.stdout).toBe('')
    expect(existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.jsonl')) : []).toEqual([])
  })

  it('refuses bad flags with exit 2', async () => {
    const { env } = fileJournal()
    const runs = await Promise.all([
      opsctl(['journal', 'append', '--kind', 'nope', '--subject', 'api'], { cwd: work.path, env }),
      opsctl(['journal', '--since', 'yesterday'], { cwd: work.path, env }),
    ])
    expect(runs.map((run) => run.status)).toEqual([2, 2])
    expect(runs[0]!.stderr).toMatch(/unknown kind "nope"/)
    expect(runs[1]!.stderr).toMatch(/Invalid --since/)
  })

  it('with --stream, writes the lines before a bad one and stops there', async () => {
    const { dir, env } = fileJournal()
    const run = await opsctl(['journal', 'append', '--stream'], { cwd: work.path, env, input: `${good}\n${good}\nnope\n${good}\n` })
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/line 3: not valid JSON.*The 2 events before it were written/)
    expect(run.stdout.trim().split('\n')).toHaveLength(2)
    expect(await readAll(fileStore(dir))).toHaveLength(2)
  })
})

describe('opsctl journal listing', () => {
  it('prints local time, kind, subject, actor and a summary; filters; JSON lines with --json', async () => {
    const { env } = fileJournal()
    const actorEnv = { ...env, OPSCTL_ACTOR: 'alice' }
    const one = await opsctl(
      ['journal', 'append', '--kind', 'deploy.step', '--subject', 'api', '--data', '{"step":2,"weight":25}', '--link', 'rollout=R-7'],
      { cwd: work.path, env: actorEnv },
    )
    expect(one.status).toBe(0)
    expect(one.stdout.trim()).toMatch(/^[0-9A-Z]{26}$/)
    await opsctl(['journal', 'append'], {
      cwd: work.path,
      env: actorEnv,
      input: jsonLines([
        noteLine('password=hunter2 ok'),
        { kind: 'flag.changed', subject: 'checkout', data: { flag: 'v2', change: 'enabled' } },
      ]),
    })

    const [human, deploys, json] = await Promise.all([
      opsctl(['journal', '--since', '1h'], { cwd: work.path, env }),
      opsctl(['journal', '--kind', 'deploy', '--subject', 'api'], { cwd: work.path, env }),
      opsctl(['journal', '--json', '--kind', 'flag,note'], { cwd: work.path, env }),
    ])
    expect(human.stdout).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (UTC|[+-]\d\d:\d\d) {2}deploy\.step +api +alice +step 2: 25% of traffic to the new version \[rollout=R-7\]$/m,
    )
    expect(human.stdout).toContain('password=***')
    expect(human.stdout.trim().split('\n')).toHaveLength(3)
    expect(deploys.stdout.trim().split('\n')).toHaveLength(1)
    const events = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as JournalEvent)
    expect(events.map((e) => e.kind)).toEqual(['note', 'flag.changed'])
    expect(events[0]).toMatchObject({ v: 1, actor: 'alice', subject: 'api', links: {}, data: { message: 'password=*** ok' } })
  })
})
