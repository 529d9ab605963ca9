// The cost of the live N+1 hook: throughput of the reference service with its query hook on
// (OPSCTL_QUERY_LOG set: every statement recorded with its request and call site, written to a
// JSON-lines log), and recording a quarter of the requests (OPSCTL_QUERY_SAMPLE=0.25), against
// the same service with it off, under the same closed-model load on /users/:id/orders, in one
// run. Each round runs every variant, in an order rotated from round to round, so that drift on
// a shared machine hits them alike; besides requests per second, each run reads the service's
// own CPU time per request from /proc. Goal: at most 3%.
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

async function measure(databaseUrl: string, env: NodeJS.ProcessEnv, seconds: number): Promise<Sample> {
  const service = await startServiceProcess({ databaseUrl, port: 0, command: [COMPILED_SERVICE], env: { LOG_LEVEL: 'silent', OPSCTL_QUERY_LOG: '', ...env } })
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
    const variants = [
      { label: 'hook off', env: {} },
      { label: 'hook on (OPSCTL_QUERY_LOG)', env: { OPSCTL_QUERY_LOG: join(dir, 'all.jsonl') } },
      { label: 'hook on, 25% of requests (OPSCTL_QUERY_SAMPLE=0.25)', env: { OPSCTL_QUERY_LOG: join(dir, 'sampled.jsonl'), OPSCTL_QUERY_SAMPLE: '0.25' } },
    ]
    const samples: Sample[][] = variants.map(() => [])
    for (let round = 0; round < rounds; round++) {
      // The order rotates every round, so that no variant always runs first or last.
      for (let k = 0; k < variants.length; k++) {
        const index = (round + k) % variants.length
        samples[index]!.push(await measure(url.toString(), variants[index]!.env, seconds))
      }
    }
    const off = samples[0]!
    const medianOf = (list: Sample[], key: keyof Sample) => median(list.map((sample) => sample[key]))
    const lines = [
      `${rounds} rounds of ${seconds}s per variant after a 2s warm-up (order rotated each round), ${CONNECTIONS} connections, GET /users/:id/orders for 50 users (an N+1: one items query per order, ~7 statements a request), seed scale 0.1, compiled service, PostgreSQL 15 on loopback.`,
      '',
      '| variant | req/s per round | median req/s | vs hook off | per-round ratio (median) | service CPU µs/request (median) | vs hook off |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ]
    const overheads: string[] = []
    variants.forEach((variant, index) => {
      const list = samples[index]!
      const rpsRatio = medianOf(list, 'rps') / medianOf(off, 'rps')
      const cpuRatio = medianOf(list, 'cpuMicrosPerRequest') / medianOf(off, 'cpuMicrosPerRequest')
      const paired = median(list.map((sample, i) => sample.rps / off[i]!.rps))
      lines.push(
        `| ${variant.label} | ${list.map((sample) => sample.rps.toFixed(0)).join(', ')} | ${medianOf(list, 'rps').toFixed(0)} | ${rpsRatio.toFixed(3)}x | ${paired.toFixed(3)}x | ${medianOf(list, 'cpuMicrosPerRequest').toFixed(0)} | ${cpuRatio.toFixed(3)}x |`,
      )
      if (index > 0) overheads.push(`${variant.label}: ${((1 - rpsRatio) * 100).toFixed(1)}% throughput (ratio of medians), ${((1 - paired) * 100).toFixed(1)}% (median of per-round ratios), +${((cpuRatio - 1) * 100).toFixed(1)}% CPU per request`)
    })
    return [...lines, '', `Overhead (goal: at most 3%): ${overheads.join('; ')}.`].join('\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  }
}
