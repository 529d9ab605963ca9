// The cost of the live N+1 hook: throughput of the reference service with its query hook on
// (OPSCTL_QUERY_LOG set: every statement recorded with its request and call site, written to a
// JSON-lines log), and recording a quarter of the requests (OPSCTL_QUERY_SAMPLE=0.25), against
// the same service with it off, under the same closed-model load on /users/:id/orders. Goal: at
// most 3% throughput.
//
// A shared 2-core VM drifts by tens of percent from one minute to the next, more than the effect,
// so variants are compared round by round, close in time: all three services run throughout
// (idle but for the one under load), each round loads each of them for a few seconds in an order
// rotated from round to round, and the overhead is the median of the per-round ratios, with a
// bootstrap 95% interval over rounds. Each run also reads the service's own CPU time per request
// from /proc. (Loading all three at once, sharing the CPUs, was tried: noisier, not steadier.)
// The compiled service is measured (what a deployment runs): `npm run build` first.
// Usage: npm run bench -- hook-overhead [seconds per run, default 3] [rounds, default 30]
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import pg from 'pg'
import { startServiceProcess, type ServiceProcess } from '../src/demo/service-process.js'
import { median, quantile } from '../src/stats/index.js'
import { seededRandom } from '../src/core/index.js'
import { migrate, seed } from '../reference-service/src/index.js'

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const COMPILED_SERVICE = fileURLToPath(new URL('../dist/reference-service/src/server.js', import.meta.url))
const CONNECTIONS = 10
const WARM_UP_SECONDS = 5
const USERS = 50

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

const requests = Array.from({ length: USERS }, (_, i) => ({ method: 'GET' as const, path: `/users/${i + 1}/orders` }))

async function measure(service: ServiceProcess, seconds: number): Promise<Sample> {
  const before = cpuMicros(service.pid)
  const result = await autocannon({ url: service.url, connections: CONNECTIONS, duration: seconds, requests })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${service.url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`)
  return { rps: result.requests.average, cpuMicrosPerRequest: (cpuMicros(service.pid) - before) / result.requests.total }
}

/** Percentile bootstrap of the median of paired ratios, resampling rounds. */
function medianInterval(ratios: number[], seed: number): { low: number; high: number } {
  const random = seededRandom(seed)
  const medians: number[] = []
  for (let i = 0; i < 2000; i++) medians.push(median(Array.from(ratios, () => ratios[Math.floor(random() * ratios.length)]!)))
  return { low: quantile(medians, 0.025), high: quantile(medians, 0.975) }
}

const percent = (ratio: number) => `${((1 - ratio) * 100).toFixed(1)}%`

export default async function run(args: string[]): Promise<string> {
  const seconds = Number(args[0] ?? 3)
  const rounds = Number(args[1] ?? 30)
  if (!existsSync(COMPILED_SERVICE)) throw new Error(`${COMPILED_SERVICE} is missing: run npm run build first`)
  const name = `opsctl_bench_hook_${process.pid}`
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(SERVER)
  url.pathname = `/${name}`
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-hook-bench-'))
  const services: ServiceProcess[] = []
  try {
    const pool = new pg.Pool({ connectionString: url.toString(), max: 4 })
    await migrate(pool)
    await seed(pool, { scale: 0.1 })
    await pool.end()
    const variants = [
      { label: 'hook off', env: {} },
      { label: 'hook on (OPSCTL_QUERY_LOG)', env: { OPSCTL_QUERY_LOG: join(dir, 'all.jsonl') } },
      {
        label: 'hook on, 25% of requests (OPSCTL_QUERY_SAMPLE=0.25)',
        env: { OPSCTL_QUERY_LOG: join(dir, 'sampled.jsonl'), OPSCTL_QUERY_SAMPLE: '0.25' },
      },
    ]
    for (const variant of variants) {
      services.push(
        await startServiceProcess({
          databaseUrl: url.toString(),
          port: 0,
          command: [COMPILED_SERVICE],
          env: { LOG_LEVEL: 'silent', OPSCTL_QUERY_LOG: '', ...variant.env },
        }),
      )
    }
    // Warm-up: JIT, pools, and the hook's first 1,000 call-site captures.
    for (const service of services) await autocannon({ url: service.url, connections: CONNECTIONS, duration: WARM_UP_SECONDS, requests })
    const samples: Sample[][] = variants.map(() => [])
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < variants.length; k++) {
        const index = (round + k) % variants.length
        samples[index]!.push(await measure(services[index]!, seconds))
      }
    }
    const logged = variants.map((variant) => ('OPSCTL_QUERY_LOG' in variant.env ? statSync(variant.env.OPSCTL_QUERY_LOG!).size : 0))

    const lines = [
      `${rounds} rounds; in each, ${seconds}s of load on each variant in turn (order rotated), after a ${WARM_UP_SECONDS}s warm-up of each service; all three services run throughout. ${CONNECTIONS} connections, GET /users/:id/orders for ${USERS} users (an N+1: one items query per order, ~7 statements a request), seed scale 0.1, compiled service, PostgreSQL 15 on loopback.`,
      '',
      '| variant | median req/s | req/s range | throughput vs hook off (median of rounds) | 95% interval | service CPU µs/request (median) | vs hook off (median of rounds) |',
      '| --- | ---: | --- | ---: | --- | ---: | ---: |',
    ]
    const verdicts: string[] = []
    const off = samples[0]!
    variants.forEach((variant, index) => {
      const list = samples[index]!
      const rps = list.map((sample) => sample.rps)
      const ratios = list.map((sample, i) => sample.rps / off[i]!.rps)
      const cpuRatios = list.map((sample, i) => sample.cpuMicrosPerRequest / off[i]!.cpuMicrosPerRequest)
      const ratio = median(ratios)
      const interval = medianInterval(ratios, index)
      lines.push(
        `| ${variant.label} | ${median(rps).toFixed(0)} | ${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)} | ${ratio.toFixed(3)}x | ${index === 0 ? '–' : `${interval.low.toFixed(3)}–${interval.high.toFixed(3)}x`} | ${median(list.map((sample) => sample.cpuMicrosPerRequest)).toFixed(0)} | ${median(cpuRatios).toFixed(3)}x |`,
      )
      if (index > 0)
        verdicts.push(
          `${variant.label}: ${percent(ratio)} throughput (95% interval ${percent(interval.high)} to ${percent(interval.low)}), ${((median(cpuRatios) - 1) * 100).toFixed(1)}% more service CPU per request`,
        )
    })
    const volume = variants
      .map((variant, index) => (index === 0 ? '' : `${variant.label} ${(logged[index]! / 1e6).toFixed(0)} MB`))
      .filter(Boolean)
    return [
      ...lines,
      '',
      `Overhead (goal: at most 3% throughput): ${verdicts.join('; ')}.`,
      '',
      `Query log written: ${volume.join(', ')}.`,
    ].join('\n')
  } finally {
    await Promise.all(services.map((service) => service.stop()))
    rmSync(dir, { recursive: true, force: true })
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  }
}
