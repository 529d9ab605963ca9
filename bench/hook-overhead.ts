// The cost of the live N+1 hook: throughput of the reference service with its query hook on
// (OPSCTL_QUERY_LOG set: every statement recorded with its request and call site) against the
// same service with it off, under the same closed-model load on /users/:id/orders, in one run,
// the two variants alternated so that machine noise hits them alike. Goal: at most 3% slower.
// Usage: npm run bench -- hook-overhead [seconds per run, default 10] [rounds, default 3]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { startServiceProcess } from '../src/demo/index.js'
import { migrate, seed } from '../reference-service/src/index.js'

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

async function measure(databaseUrl: string, queryLog: string | undefined, seconds: number): Promise<number> {
  const service = await startServiceProcess({
    databaseUrl,
    port: 0,
    env: { LOG_LEVEL: 'silent', ...(queryLog ? { OPSCTL_QUERY_LOG: queryLog } : { OPSCTL_QUERY_LOG: '' }) },
  })
  try {
    const requests = Array.from({ length: 50 }, (_, i) => ({ method: 'GET' as const, path: `/users/${(i % 50) + 1}/orders` }))
    await autocannon({ url: service.url, connections: 10, duration: 2, requests }) // warm-up
    const result = await autocannon({ url: service.url, connections: 10, duration: seconds, requests })
    return result.requests.average
  } finally {
    await service.stop()
  }
}

export default async function run(args: string[]): Promise<string> {
  const seconds = Number(args[0] ?? 10)
  const rounds = Number(args[1] ?? 3)
  const name = `opsctl_bench_hook_${process.pid}`
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(SERVER)
  url.pathname = `/${name}`
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-hook-bench-'))
  try {
    const pool = new pg.Pool({ connectionString: url.toString(), max: 4 })
    await migrate(pool)
    await seed(pool, { scale: 0.1 })
    await pool.end()
    const off: number[] = []
    const on: number[] = []
    for (let round = 0; round < rounds; round++) {
      off.push(await measure(url.toString(), undefined, seconds))
      on.push(await measure(url.toString(), join(dir, `queries-${round}.jsonl`), seconds))
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    const ratio = median(on) / median(off)
    return [
      `${rounds} alternated rounds of ${seconds}s, 10 connections, GET /users/:id/orders (an N+1 of ~4 item queries per request), seed scale 0.1, PostgreSQL 15 on loopback.`,
      '',
      '| variant | req/s per round | median req/s | vs hook off |',
      '| --- | --- | ---: | ---: |',
      `| hook off | ${off.map((v) => v.toFixed(0)).join(', ')} | ${median(off).toFixed(0)} | 1.00x |`,
      `| hook on (OPSCTL_QUERY_LOG) | ${on.map((v) => v.toFixed(0)).join(', ')} | ${median(on).toFixed(0)} | ${ratio.toFixed(3)}x |`,
      '',
      `Overhead: ${((1 - ratio) * 100).toFixed(1)}% (goal: at most 3%).`,
    ].join('\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  }
}
