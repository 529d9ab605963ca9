import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExitCode } from '../../src/core/index.js'
import { type JournalEvent, type JournalStore } from '../../src/journal/index.js'
import { JOURNAL_TABLE, PgJournal } from '../../src/journal/pg-store.js'
import { type Damage } from '../../src/journal/store.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { collect, event, note, testContext } from './fixtures.js'

let database: TestDatabase
const opened: JournalStore[] = []

async function journal(durable = true): Promise<PgJournal> {
  const store = await PgJournal.open({ url: database.url, durable })
  opened.push(store)
  return store
}

async function sql(text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  database = await createTestDatabase('journal_pg')
})

afterAll(async () => {
  for (const store of opened) await store.close().catch(() => {})
  await database?.drop()
})

function notes(count: number, at: string): JournalEvent[] {
  const context = testContext(at)
  return Array.from({ length: count }, (_, i) => note(`event ${i}`, context))
}

describe('the PostgreSQL journal', () => {
  it('migrates idempotently, also from several processes at once', async () => {
    await Promise.all([journal(), journal(), journal()])
    await journal()
    const indexes = await sql(`SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`, [JOURNAL_TABLE])
    expect(indexes.rows.map((row: { indexname: string }) => row.indexname)).toEqual([
      `${JOURNAL_TABLE}_kind_idx`,
      `${JOURNAL_TABLE}_pkey`,
      `${JOURNAL_TABLE}_time_idx`,
      `${JOURNAL_TABLE}_txid_idx`,
    ])
  })

  it('reads back what was appended in id order, the same events as written', async () => {
    const store = await journal()
    const late = notes(3, '2026-01-01T10:00:00.000Z')
    const early = [
      event(
        {
          kind: 'deploy.step',
          subject: 'api',
          data: { step: 1, weight: 10, nested: { b: 1, a: [1, 'x', null] } },
          links: { rollout: 'R-1' },
        },
        testContext('2026-01-01T09:00:00.000Z'),
      ),
    ]
    await store.append(late)
    await store.append(early)
    expect(await collect(store.read({ since: Date.parse('2026-01-01T00:00:00Z'), until: Date.parse('2026-01-02T00:00:00Z') }))).toEqual([
      ...early,
      ...late,
    ])
  })

  it('filters by kind namespace and subject in SQL', async () => {
    const store = await journal()
    const at = testContext('2026-02-01T00:00:00.000Z')
    const step = event({ kind: 'deploy.step', subject: 'web', data: { step: 2, weight: 50 } }, at)
    const flag = event({ kind: 'flag.changed', subject: 'web', data: { flag: 'f', change: 'enabled' } }, at)
    const mine = event({ kind: 'x.deploy_like', subject: 'web', data: {} }, at)
    await store.append([step, flag, mine])
    const february = { since: Date.parse('2026-02-01T00:00:00Z') }
    expect(await collect(store.read({ ...february, kinds: ['deploy'] }))).toEqual([step])
    expect(await collect(store.read({ ...february, kinds: ['flag.changed', 'x'] }))).toEqual([flag, mine])
    expect(await collect(store.read({ ...february, subjects: ['web'], kinds: ['deploy_'] }))).toEqual([])
  })

  it('skips ids already present (ON CONFLICT) and counts them', async () => {
    const store = await journal(false)
    const all = notes(10, '2026-03-01T00:00:00.000Z')
    expect(await store.append(all.slice(0, 4))).toEqual({ appended: 4, skipped: 0 })
    expect(await store.append(all)).toEqual({ appended: 6, skipped: 4 })
    expect(await collect(store.read({ since: Date.parse('2026-03-01T00:00:00Z'), until: Date.parse('2026-03-02T00:00:00Z') }))).toEqual(all)
  })

  it('writes a batch in one transaction: a row PostgreSQL refuses leaves nothing of the batch', async () => {
    const store = await journal()
    const batch = notes(5, '2026-04-01T00:00:00.000Z')
    // Built around validation: jsonb cannot hold \u0000.
    batch[3] = { ...batch[3]!, data: { message: 'bad \u0000 byte' } }
    await expect(store.append(batch)).rejects.toThrow(/Cannot append/)
    expect(await collect(store.read({ since: Date.parse('2026-04-01T00:00:00Z'), until: Date.parse('2026-04-02T00:00:00Z') }))).toEqual([])
  })

  /** PGlite behind its socket server (the fallback without a server) does not deliver notifications. */
  const notifies = () => requireOrSkip(database.kind === 'server', 'journal --follow on PostgreSQL needs LISTEN/NOTIFY of a real server')

  it('follows with LISTEN/NOTIFY: the backlog, then each committed batch once', async (context) => {
    if (!notifies()) return context.skip()
    const reader = await journal()
    const writer = await journal()
    const filter = { since: Date.parse('2026-05-01T00:00:00Z'), kinds: ['note'] }
    const before = notes(2, '2026-05-01T00:00:00.000Z')
    await writer.append(before)
    const stop = new AbortController()
    const seen: JournalEvent[] = []
    const following = (async () => {
      for await (const item of reader.follow(filter, { signal: stop.signal })) {
        seen.push(item)
        if (seen.length === 6) stop.abort()
      }
    })()
    await waitFor(() => seen.length === 2)
    const after = notes(4, '2026-05-02T00:00:00.000Z')
    await writer.append(after.slice(0, 2))
    await writer.append([event({ kind: 'x.other', data: {} }, testContext('2026-05-03T00:00:00.000Z'))])
    await writer.append(after.slice(0, 3)) // one already delivered: not again
    await writer.append(after.slice(3))
    await following
    expect(seen).toEqual([...before, ...after])
  })

  it('ends a follow with an environment error when the connection is lost', async (context) => {
    if (!notifies()) return context.skip()
    const reader = await journal()
    const stop = new AbortController()
    const seen: JournalEvent[] = []
    const failure = (async () => {
      for await (const item of reader.follow(
        { since: Date.parse('2026-05-01T00:00:00Z'), until: Date.parse('2026-05-02T00:00:00Z') },
        { signal: stop.signal },
      ))
        seen.push(item)
    })().then(
      () => undefined,
      (error: unknown) => error,
    )
    await waitFor(() => seen.length === 2)
    await sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'opsctl journal follow' AND datname = current_database()`,
    )
    expect(await failure).toMatchObject({ exit: ExitCode.Environment, message: expect.stringMatching(/Lost the journal connection/) })
  })

  it('verifies rows and names a damaged one by id', async () => {
    const store = await journal()
    expect((await store.verify()).damaged).toEqual([])
    await sql(
      `INSERT INTO ${JOURNAL_TABLE} (id, time, kind, actor, subject, links, data, schema_version) VALUES ('not-a-ulid', now(), 'note', 'psql', 'api', '{}', '{}', 1)`,
    )
    const report = await store.verify()
    expect(report.damaged).toEqual([
      { location: expect.stringContaining(JOURNAL_TABLE), id: 'not-a-ulid', reason: expect.stringMatching(/not a journal event.*id/) },
    ])
    const damage: Damage[] = []
    const read = await collect(store.read({}, { onDamage: (d) => damage.push(d) }))
    expect(read.map((e) => e.id)).not.toContain('not-a-ulid')
    expect(damage).toHaveLength(1)
    await sql(`DELETE FROM ${JOURNAL_TABLE} WHERE id = 'not-a-ulid'`)
  })
})

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10))
}
