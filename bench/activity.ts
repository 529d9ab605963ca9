// npm run bench -- activity [SESSIONS]
//
// How long one `db activity` snapshot takes on the local PostgreSQL, on a scene of SESSIONS idle
// connections (default 50) plus a lock chain of one holder and three waiters, in a throwaway
// database. Side by side in one run: opsctl's snapshot with a kept connection (each refresh of
// --watch), opsctl cold (a new connection and statement cache, snapshot, close: a one-shot run
// without the CLI's start-up; the SQL parser is loaded once per process), and psql running the two catalog queries of the snapshot (pg_stat_activity
// with pg_blocking_pids, and pg_locks), the way the runbooks did before.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import pg from 'pg'
import { openActivitySource, takeActivitySnapshot, type ActivityOptions } from '../src/activity/collect.js'
import { activitySql, locksSql } from '../src/activity/queries.js'

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const OPTIONS: ActivityOptions = {
  thresholds: { idleInTransactionMs: 60_000, longQueryMs: 60_000, lockWaitMs: 1000, nearMaxConnections: 0.8 },
  limit: 10,
}

export default async function run(args: string[]): Promise<string> {
  const sessions = Number(args[0] ?? 50)
  const name = `opsctl_bench_activity_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client(SERVER)
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(SERVER)
  url.pathname = `/${name}`
  const clients: pg.Client[] = []
  const open = async (application: string) => {
    const client = new pg.Client({ connectionString: url.toString(), application_name: application })
    client.on('error', () => {})
    await client.connect()
    clients.push(client)
    return client
  }
  try {
    const setup = await open('bench-setup')
    await setup.query('CREATE TABLE items (id int PRIMARY KEY, quantity int NOT NULL)')
    await setup.query('INSERT INTO items SELECT g, 0 FROM generate_series(1, 10) g')
    for (let i = 0; i < sessions; i++) await (await open(`bench-idle-${i % 5}`)).query('SELECT 1')
    const holder = await open('bench-holder')
    await holder.query('BEGIN')
    await holder.query('UPDATE items SET quantity = 1 WHERE id = 1')
    for (let i = 0; i < 3; i++) void (await open(`bench-waiter-${i}`)).query('UPDATE items SET quantity = 2 WHERE id = 1').catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 500))

    const target = { url: url.toString(), kind: 'server' as const, description: 'bench' }
    const rows: Array<[string, number[]]> = []
    const source = await openActivitySource(target, OPTIONS)
    const first = await source.snapshot()
    if (first.lockTrees[0]?.waiters !== 3) throw new Error(`the scene has no chain of 3 waiters: ${JSON.stringify(first.lockTrees)}`)
    rows.push(['opsctl snapshot, kept connection (--watch refresh)', await times(50, () => source.snapshot())])
    await source.close()
    rows.push([
      'opsctl snapshot, cold (new connection and statement cache, snapshot, close)',
      await times(20, () => takeActivitySnapshot(target, OPTIONS)),
    ])
    const version = (await admin.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v")).rows[0]!.v
    const pids = first.sessions.map((session) => session.pid).slice(0, 5)
    const locks = locksSql(version).replace('$1::int[]', `'{${pids.join(',')}}'::int[]`)
    rows.push([
      'psql -c activity -c locks (a process each time)',
      await times(20, async () => {
        const result = spawnSync('psql', [url.toString(), '-X', '-q', '-o', '/dev/null', '-c', activitySql(version), '-c', locks])
        if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`)
      }),
    ])
    const collect = first.collectMs
    return [
      `${first.connections!.used} client sessions on the server (${sessions} idle in the bench database, a holder and 3 waiters), load average ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')} at the end; the snapshot's own collectMs on the first run: ${collect} ms.`,
      '',
      '| what | runs | median ms | p90 ms | min ms |',
      '|---|---:|---:|---:|---:|',
      ...rows.map(([label, values]) => `| ${label} | ${values.length} | ${q(values, 0.5)} | ${q(values, 0.9)} | ${q(values, 0)} |`),
    ].join('\n')
  } finally {
    for (const client of clients) await client.end().catch(() => {})
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

async function times(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  await work()
  const values: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    await work()
    values.push(performance.now() - started)
  }
  return values
}

function q(values: number[], quantile: number): string {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))]!.toFixed(1)
}
