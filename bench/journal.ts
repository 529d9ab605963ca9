// The ops journal, both stores: appends per second with and without flushing, and the time to
// list and filter a large journal by kind (store read, and the CLI end to end).
// npm run bench -- journal [--events 1000000] [--appends 2000] [--no-cli]
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { createIdGenerator, type JournalEvent, type JournalStore } from '../src/journal/index.js'
import { type JournalFilter } from '../src/journal/filter.js'
import { FileJournal } from '../src/journal/file-store.js'
import { PgJournal } from '../src/journal/pg-store.js'
import { buildEvent } from '../src/journal/event.js'
import { systemClock } from '../src/core/index.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const KINDS = [
  'note',
  'deploy.step',
  'flag.changed',
  'gate.verdict',
  'load.run',
  'profile.run',
  'incident.note',
  'runbook.step',
  'x.metric',
  'x.audit',
]

interface Options {
  events: number
  appends: number
  cli: boolean
}

function parseArgs(args: string[]): Options {
  const value = (name: string) => {
    const at = args.indexOf(`--${name}`)
    return at >= 0 ? args[at + 1] : undefined
  }
  return { events: Number(value('events') ?? 1_000_000), appends: Number(value('appends') ?? 2000), cli: !args.includes('--no-cli') }
}

/** Journal events shaped like real ones, one kind in ten is deploy.*, spread over the last 30 days. */
function syntheticEvents(count: number, startMs: number, spanMs: number): JournalEvent[] {
  const ids = createIdGenerator()
  return Array.from({ length: count }, (_, i): JournalEvent => {
    const time = startMs + Math.floor((i / count) * spanMs)
    const kind = KINDS[i % KINDS.length]!
    return {
      v: 1 as const,
      id: ids.next(time),
      time: new Date(time).toISOString(),
      kind,
      actor: 'octocat@github-actions:deploy#123456',
      subject: `service-${i % 7}`,
      links: i % 3 === 0 ? { rollout: `R-${i % 100}` } : {},
      data: {
        message: `event ${i} of the benchmark journal`,
        step: i % 5,
        weight: (i % 5) * 20,
        verdict: 'pass',
        flag: 'checkout-v2',
        change: 'enabled',
      },
    }
  })
}

async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint()
  const value = await action()
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value }
}

async function count(source: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of source) n++
  return n
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL)
  url.pathname = `/${name}`
  return url.toString()
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US')
const seconds = (ms: number) => (ms / 1000).toFixed(2)

export default async function run(args: string[]): Promise<string> {
  const options = parseArgs(args)
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-journal-'))
  const dbName = `opsctl_bench_journal_${randomBytes(4).toString('hex')}`
  const stores: JournalStore[] = []
  const log = (text: string) => process.stderr.write(`${text}\n`)
  await adminQuery(`CREATE DATABASE ${dbName}`)
  const url = databaseUrl(dbName)
  const open = {
    files: (name: string, durable: boolean) => {
      const store = new FileJournal({ dir: join(dir, name), durable, segmentSize: 64 * 1024 * 1024 })
      stores.push(store)
      return store
    },
    postgresql: async (durable: boolean) => {
      const store = await PgJournal.open({ url, durable })
      stores.push(store)
      return store
    },
  }
  try {
    // --- validation: what recordEvent / append pay per event before the store ---
    const context = { clock: systemClock, actor: 'bench', ids: createIdGenerator() }
    const input = {
      kind: 'deploy.step',
      subject: 'api',
      data: { step: 2, weight: 25, note: 'https://x.example/a?b=c' },
      links: { rollout: 'R-1' },
    }
    const validation = await timed(async () => {
      for (let i = 0; i < 20_000; i++) buildEvent(input, context)
    })

    // --- appends per second ---
    const appendRows: string[] = []
    const single = syntheticEvents(options.appends, Date.now() - 1000, 1000)
    const batches = syntheticEvents(100_000, Date.now() - 1000, 1000)
    const targets: Array<[string, () => Promise<JournalStore>]> = [
      ['files, durable (fdatasync)', async () => open.files('append-durable', true)],
      ['files, journal.durable: false', async () => open.files('append-fast', false)],
      ['PostgreSQL, durable (synchronous_commit on)', () => open.postgresql(true)],
      ['PostgreSQL, journal.durable: false (synchronous_commit off)', () => open.postgresql(false)],
    ]
    for (const [name, make] of targets) {
      log(`appends: ${name}`)
      const store = await make()
      const one = await timed(async () => {
        for (const event of single) await store.append([event])
      })
      const many = await timed(async () => {
        for (let i = 0; i < batches.length; i += 1000) await store.append(batches.slice(i, i + 1000))
      })
      appendRows.push(`| ${name} | ${rate(single.length, one.ms)} | ${rate(batches.length, many.ms)} |`)
      // Clear the table so that the large journal below starts empty.
      if (store.kind === 'postgresql') await adminQueryOn(url, 'TRUNCATE opsctl_journal_events')
    }

    // --- a large journal: list everything, and filter by kind ---
    const listRows: string[] = []
    const span = 30 * 86_400_000
    const filter: JournalFilter = { kinds: ['deploy'] }
    const large = { files: open.files('large', false), postgresql: await open.postgresql(false) }
    for (const [name, store] of Object.entries(large)) {
      log(`filling ${name} with ${options.events} events`)
      const fill = await timed(async () => {
        const chunk = 50_000
        for (let start = 0; start < options.events; start += chunk) {
          const events = syntheticEvents(
            Math.min(chunk, options.events - start),
            Date.now() - span + Math.floor((start / options.events) * span),
            Math.floor((chunk / options.events) * span),
          )
          await store.append(events)
        }
      })
      if (store.kind === 'postgresql') await adminQueryOn(url, 'VACUUM ANALYZE opsctl_journal_events')
      log(`reading ${name}`)
      const all = await timed(() => count(store.read()))
      const byKind = await timed(() => count(store.read(filter)))
      const recent = await timed(() => count(store.read({ ...filter, since: Date.now() - 86_400_000 })))
      let cliAll = '–'
      let cliKind = '–'
      if (options.cli) {
        const env = {
          ...process.env,
          NO_COLOR: '1',
          OPSCTL_JOURNAL_DIR: join(dir, 'large'),
          OPSCTL_JOURNAL_URL: store.kind === 'postgresql' ? url : '',
        }
        const cli = (extra: string[]) => {
          const start = process.hrtime.bigint()
          const result = spawnSync(process.execPath, ['bin/dev.js', 'journal', ...extra], {
            cwd: ROOT,
            env,
            stdio: ['ignore', 'ignore', 'inherit'],
            maxBuffer: 1 << 30,
          })
          if (result.status !== 0) throw new Error(`opsctl journal ${extra.join(' ')} exited ${result.status}`)
          return seconds(Number(process.hrtime.bigint() - start) / 1e6)
        }
        log(`CLI on ${name}`)
        cliAll = cli(['--json'])
        cliKind = cli(['--kind', 'deploy'])
      }
      listRows.push(
        `| ${name} | ${options.events.toLocaleString('en-US')} | ${rate(options.events, fill.ms)}/s | ${seconds(all.ms)} (${all.value.toLocaleString('en-US')}) | ${seconds(byKind.ms)} (${byKind.value.toLocaleString('en-US')}) | ${seconds(recent.ms)} (${recent.value.toLocaleString('en-US')}) | ${cliAll} | ${cliKind} |`,
      )
    }

    return [
      `Validation and redaction (buildEvent): ${rate(20_000, validation.ms)} events/s.`,
      '',
      `Appends: ${options.appends.toLocaleString('en-US')} single-event appends (each its own locked write or transaction), then 100,000 events in batches of 1,000. PostgreSQL is the local server over TCP.`,
      '',
      '| store | single-event appends/s | events/s in batches of 1,000 |',
      '| --- | ---: | ---: |',
      ...appendRows,
      '',
      `Listing: a journal of ${options.events.toLocaleString('en-US')} events over 30 days, 10 kinds (deploy.* is one in ten). Store read = iterating \`store.read(filter)\` in id order; CLI = \`opsctl journal\` from the TypeScript sources (bin/dev.js, ~1 s of start-up included), output to /dev/null. Seconds (events).`,
      '',
      '| store | events | fill (batches of 50,000, not flushed) | read all | --kind deploy | --kind deploy --since 24h | CLI --json (all) | CLI --kind deploy |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...listRows,
    ].join('\n')
  } finally {
    for (const store of stores) await store.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  }
}

async function adminQueryOn(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
