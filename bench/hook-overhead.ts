// The cost of the live N+1 hook: throughput of the reference service with its query hook on
// (OPSCTL_QUERY_LOG set: every statement recorded with its request and call site, written to a
// JSON-lines log) against the same service with it off, under the same closed-model load on
// /users/:id/orders, in one run. Rounds run the two variants in ABBA order so that drift on a
// shared machine hits both alike; besides requests per second, each run reads the service's own
// CPU time per request from /proc, which the rest of the machine disturbs less. Goal: at most 3%.
// The compiled service is measured (what a deployment runs): `npm run build` first.
// Usage: npm run bench -- hook-overhead [seconds per run, default 8] [rounds, default 6]
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import pg from 'pg'
import { startServiceProcess } from '../src/demo/index.js'
import { migrate, seed } from '../reference-service/src/index.js'

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const COMPILED_SERVICE = fileURLToPath(new URL('../dist/reference-service/src/server.js', import.meta.url))
const CONNECTIONS = 10

interface Sample {
  rps: number
  cpuMicrosPerRequest: number
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** User plus system CPU time of a process so far, in microseconds (Linux). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100 // clock ticks at USER_HZ 100
}

async function measure(databaseUrl: string, queryLog: string | undefined, seconds: number): Promise<Sample> {
  const service = await startServiceProcess({
    databaseUrl,
    port: 0,
    command: [COMPILED_SERVICE],
    env: { LOG_LEVEL: 'silent', OPSCTL_QUERY_LOG: queryLog ?? '' },
  })
  try {
    const requests = Array.from({ length: 50 }, (_, i) => ({ method: 'GET' as const, path: `/users/${i + 1}/orders` }))
    await autocannon({ url: service.url, connections: CONNECTIONS, duration: 2, requests }) // warm-up: JIT, pool
    const before = cpuMicros(service.pid)
    const result = await autocannon({ url: service.url, connections: CONNECTIONS, duration: seconds, requests })
    return { rps: result.requests.average, cpuMicrosPerRequest: (cpuMicros(service.pid) - before) / result.requests.total }
  } finally {
    await service.stop()
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export default async function run(args: string[]): Promise<string> {
  const seconds = Number(args[0] ?? 8)
  const rounds = Number(args[1] ?? 6)
  if (!existsSync(COMPILED_SERVICE)) throw new Error(`${COMPILED_SERVICE} is missing: run npm run build first`)
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
    const off: Sample[] = []
    const on: Sample[] = []
    for (let round = 0; round < rounds; round++) {
      const hookOn = () => measure(url.toString(), join(dir, `queries-${round}.jsonl`), seconds).then((sample) => on.push(sample))
      const hookOff = () => measure(url.toString(), undefined, seconds).then((sample) => off.push(sample))
      // ABBA: off, on in even rounds, on, off in odd ones.
      if (round % 2 === 0) await hookOff().then(hookOn)
      else await hookOn().then(hookOff)
    }
    const pairedRatios = on.map((sample, i) => sample.rps / off[i]!.rps)
    const rpsRatio = median(on.map((s) => s.rps)) / median(off.map((s) => s.rps))
    const cpuRatio = median(on.map((s) => s.cpuMicrosPerRequest)) / median(off.map((s) => s.cpuMicrosPerRequest))
    const row = (label: string, samples: Sample[], ratio: string, cpu: string) =>
      `| ${label} | ${samples.map((s) => s.rps.toFixed(0)).join(', ')} | ${median(samples.map((s) => s.rps)).toFixed(0)} | ${ratio} | ${median(samples.map((s) => s.cpuMicrosPerRequest)).toFixed(0)} | ${cpu} |`
    return [
      `${rounds} rounds (ABBA order) of ${seconds}s per variant after a 2s warm-up, ${CONNECTIONS} connections, GET /users/:id/orders for 50 users (an N+1: one items query per order, ~7 statements a request), seed scale 0.1, compiled service, PostgreSQL 15 on loopback.`,
      '',
      '| variant | req/s per round | median req/s | vs hook off | service CPU µs/request (median) | vs hook off |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
      row('hook off', off, '1.00x', '1.00x'),
      row('hook on (OPSCTL_QUERY_LOG)', on, `${rpsRatio.toFixed(3)}x`, `${cpuRatio.toFixed(3)}x`),
      '',
      `Throughput overhead: ${((1 - rpsRatio) * 100).toFixed(1)}% (ratio of medians; per-round ratios ${Math.min(...pairedRatios).toFixed(3)}–${Math.max(...pairedRatios).toFixed(3)}, median ${median(pairedRatios).toFixed(3)}). ` +
        `CPU per request: +${((cpuRatio - 1) * 100).toFixed(1)}%. Goal: at most 3%.`,
    ].join('\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  }
}
