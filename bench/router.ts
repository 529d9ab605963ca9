// The built-in router against HAProxy doing the same 90/10 split, and direct access for the
// added latency, in one run. Two hello-world node:http backends in processes of their own (as in
// the load bench), `opsctl router start` (its own process, health checks on), and haproxy with the
// configuration `opsctl router haproxy-config` generates (its default threads; checks on).
//
// Per round, in rotating order, for each target:
// - throughput: the autocannon CLI (the pinned dev dependency, as in bench/load.ts), C connections,
//   S seconds; with the proxy process's CPU time per request (steadier than req/s on a shared machine);
// - latency: one request at a time over one keep-alive connection (undici), every request timed
//   with performance.now(): autocannon's latencies are whole milliseconds, the question is about
//   fractions of one, and a client that queues measures its queue rather than the proxy.
// Added latency = the proxy's percentile minus direct's in the same round, median over rounds.
// Goals: the router at >= 0.8x HAProxy's throughput, and < 1 ms added p99 on loopback.
//
//   npm run bench -- router [seconds=5] [connections=50] [rounds=5]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, loadavg } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { haproxyConfig } from '../src/traffic/haproxy-config.js'
import { haproxyTraffic } from '../src/traffic/haproxy.js'
import { routerClient } from '../src/traffic/admin-client.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const autocannonBin = `${root}node_modules/.bin/autocannon`

const BACKEND = `
  const http = require('node:http')
  const server = http.createServer((request, response) => {
    response.setHeader('content-type', 'text/plain')
    response.end('hello world')
  })
  server.keepAliveTimeout = 60000
  server.listen(0, '127.0.0.1', () => console.log(server.address().port))
  process.on('SIGTERM', () => process.exit(0))
`

// Latency client: one keep-alive connection, one request at a time for SECONDS (no queue of its
// own, so what it times is the round trip through the target), every latency in microseconds.
const SEQUENTIAL = `
  const { Client } = require(${JSON.stringify(`${root}node_modules/undici`)})
  const [url, seconds] = process.argv.slice(1)
  const client = new Client(url)
  const latencies = []
  let failed = 0
  const until = performance.now() + Number(seconds) * 1000
  ;(async () => {
    while (performance.now() < until) {
      const at = performance.now()
      try {
        const answer = await client.request({ path: '/', method: 'GET' })
        await answer.body.dump()
        latencies.push((performance.now() - at) * 1000)
      } catch { failed++ }
    }
    latencies.sort((a, b) => a - b)
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
    console.log(JSON.stringify({ p50: q(0.5), p99: q(0.99), count: latencies.length, failed }))
    await client.close()
  })()
`

interface Target {
  name: string
  url: string
  pid?: number
}

interface RoundResult {
  rps: number
  cpuPerRequest: number | undefined
  p50: number
  p99: number
  errors: number
}

function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

function throughput(target: Target, seconds: number, connections: number): { rps: number; errors: number; cpuPerRequest?: number } {
  const before = target.pid ? processCpuSeconds(target.pid) : 0
  const result = spawnSync(autocannonBin, ['-c', String(connections), '-d', String(seconds), '--json', `${target.url}/`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.status !== 0) throw new Error(`autocannon failed: ${result.stderr}`)
  const json = JSON.parse(result.stdout) as { requests: { total: number }; duration: number; errors: number; non2xx: number }
  const cpu = target.pid ? processCpuSeconds(target.pid) - before : undefined
  return {
    rps: json.requests.total / json.duration,
    errors: json.errors + json.non2xx,
    ...(cpu !== undefined ? { cpuPerRequest: (cpu * 1e6) / json.requests.total } : {}),
  }
}

function warmUp(target: Target, connections: number): void {
  spawnSync(autocannonBin, ['-c', String(connections), '-a', '30000', `${target.url}/`], { stdio: 'ignore' })
}

function sequential(target: Target, seconds: number): { p50: number; p99: number; count: number; failed: number } {
  const result = spawnSync(process.execPath, ['-e', SEQUENTIAL, `${target.url}`, String(seconds)], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`latency client failed: ${result.stderr}`)
  return JSON.parse(result.stdout.trim()) as { p50: number; p99: number; count: number; failed: number }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function startBackend(children: ChildProcess[]): Promise<number> {
  const child = spawn(process.execPath, ['-e', BACKEND], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
    child.once('exit', (code) => reject(new Error(`backend exited with ${code}`)))
  })
}

function version(command: string, args: string[], pattern: RegExp): string {
  const result = spawnSync(command, args, { encoding: 'utf8' })
  return pattern.exec(`${result.stdout}${result.stderr}`)?.[1] ?? 'unknown'
}

export default async function run(args: string[]): Promise<string> {
  const seconds = Number(args[0] ?? 5)
  const connections = Number(args[1] ?? 50)
  const rounds = Number(args[2] ?? 5)
  const loadBefore = loadavg()
  const children: ChildProcess[] = []
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-router-'))
  try {
    const [stablePort, canaryPort] = [await startBackend(children), await startBackend(children)]
    const direct: Target = { name: 'direct (stable backend)', url: `http://127.0.0.1:${stablePort}` }

    const router = spawn(
      process.execPath,
      [
        `${root}bin/dev.js`,
        'router',
        'start',
        '--json',
        '--backend',
        `stable=http://127.0.0.1:${stablePort}`,
        '--backend',
        `canary=http://127.0.0.1:${canaryPort}`,
        '--weights',
        'stable=90,canary=10',
        '--port',
        '0',
        '--admin-port',
        '0',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, OPSCTL_ROUTER_HEALTH_CHECK_PATH: '/' } },
    )
    children.push(router)
    const listening = await new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
      createInterface({ input: router.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { url: string; adminUrl: string }))
      router.once('exit', (code) => reject(new Error(`router exited with ${code}`)))
    })
    const builtin: Target = { name: 'opsctl router (built-in)', url: listening.url, pid: router.pid! }

    // HAProxy as installed (one thread per core), and with one thread: the same share of the CPU as the router's one event loop.
    const startHaproxy = async (name: string, extraGlobal: string[]): Promise<Target & { socket: string }> => {
      const port = await freePort()
      const socket = join(dir, `${name.replace(/\W+/g, '-')}.sock`)
      const file = join(dir, `${name.replace(/\W+/g, '-')}.cfg`)
      writeFileSync(
        file,
        haproxyConfig({
          socket,
          bind: `127.0.0.1:${port}`,
          pool: 'app',
          servers: [
            { name: 'stable', address: `127.0.0.1:${stablePort}`, weight: 90 },
            { name: 'canary', address: `127.0.0.1:${canaryPort}`, weight: 10 },
          ],
          healthPath: '/',
          extraGlobal,
        }),
      )
      const child = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'ignore'] })
      children.push(child)
      for (let wait = 0; !existsSync(socket) && wait < 100; wait++) await new Promise((resolve) => setTimeout(resolve, 100))
      return { name, url: `http://127.0.0.1:${port}`, pid: child.pid!, socket }
    }
    const haproxyTarget = await startHaproxy('HAProxy 2.6', [])
    const haproxyOneThread = await startHaproxy('HAProxy 2.6, nbthread 1', ['nbthread 1'])
    const socket = haproxyTarget.socket

    const targets = [direct, builtin, haproxyTarget, haproxyOneThread]
    // Warm-up by count, not time: on a busy machine a second is not enough for the router's JIT.
    for (const target of targets) warmUp(target, connections)
    const results: Record<string, RoundResult[]> = Object.fromEntries(targets.map((target) => [target.name, []]))
    for (let round = 0; round < rounds; round++) {
      const order = [...targets.slice(round % targets.length), ...targets.slice(0, round % targets.length)]
      for (const target of order) {
        const load = throughput(target, seconds, connections)
        const latency = sequential(target, seconds)
        results[target.name]!.push({
          rps: load.rps,
          cpuPerRequest: load.cpuPerRequest,
          p50: latency.p50,
          p99: latency.p99,
          errors: load.errors + latency.failed,
        })
        process.stderr.write(
          `round ${round + 1} ${target.name}: ${load.rps.toFixed(0)} req/s, p50 ${latency.p50.toFixed(0)} µs, p99 ${latency.p99.toFixed(0)} µs\n`,
        )
      }
    }

    // The split each proxy actually made (over the whole run, warm-up included).
    const token = readFileSync(join(dir, '.opsctl', 'router', 'token'), 'utf8').trim()
    const routerStats = await routerClient({ adminUrl: listening.adminUrl, token }).stats()
    const haproxyStats = await haproxyTraffic({ socket }).stats()
    const share = (stats: Array<{ backend: string; requests: number }>) => {
      const total = stats.reduce((sum, stat) => sum + stat.requests, 0)
      return ((stats.find((stat) => stat.backend === 'canary')!.requests / total) * 100).toFixed(2)
    }

    const directRuns = results[direct.name]!
    const haproxyRuns = results[haproxyTarget.name]!
    const rows = targets.map((target) => {
      const runs = results[target.name]!
      const rps = median(runs.map((run) => run.rps))
      const vsHaproxy = median(runs.map((run, index) => run.rps / haproxyRuns[index]!.rps))
      const p50 = median(runs.map((run) => run.p50)) / 1000
      const p99 = median(runs.map((run) => run.p99)) / 1000
      const addedP50 = target === direct ? '-' : (median(runs.map((run, index) => run.p50 - directRuns[index]!.p50)) / 1000).toFixed(3)
      const addedP99 = target === direct ? '-' : (median(runs.map((run, index) => run.p99 - directRuns[index]!.p99)) / 1000).toFixed(3)
      const cpu = runs[0]!.cpuPerRequest === undefined ? '-' : median(runs.map((run) => run.cpuPerRequest!)).toFixed(1)
      const errors = runs.reduce((sum, run) => sum + run.errors, 0)
      return `| ${target.name} | ${rps.toFixed(0)} | ${runs.map((run) => run.rps.toFixed(0)).join(', ')} | ${vsHaproxy.toFixed(2)}x | ${cpu} | ${p50.toFixed(3)} | ${p99.toFixed(3)} | ${addedP50} | ${addedP99} | ${errors} |`
    })
    const routerRatio = median(results[builtin.name]!.map((run, index) => run.rps / haproxyRuns[index]!.rps))
    const addedP99 = median(results[builtin.name]!.map((run, index) => run.p99 - directRuns[index]!.p99)) / 1000
    const loadAfter = loadavg()
    return [
      `Two hello-world node:http backends (own processes); opsctl router and HAProxy both at stable=90,canary=10 with health checks.`,
      `Throughput: autocannon ${version(autocannonBin, ['--version'], /autocannon v?(\S+)/)} CLI, ${connections} connections, ${seconds}s; latency: one request at a time on one keep-alive connection (undici), ${seconds}s, per-request timing.`,
      `${rounds} rounds in rotating order; medians over rounds; "vs HAProxy" and "added" are medians of per-round pairs. HAProxy ${version('haproxy', ['-v'], /version (\S+)/)} (default threads), Node ${process.version}.`,
      `Load average (1/5/15 min) at start ${loadBefore.map((value) => value.toFixed(1)).join(' / ')}, at end ${loadAfter.map((value) => value.toFixed(1)).join(' / ')}.`,
      '',
      '| target | req/s (median) | each round | vs HAProxy | proxy CPU µs/request | p50 ms | p99 ms | added p50 ms | added p99 ms | errors |',
      '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `Canary share of requests: built-in router ${share(routerStats)}%, HAProxy ${share(haproxyStats)}%.`,
      `Built-in router / HAProxy throughput: **${routerRatio.toFixed(2)}** (goal ≥ 0.8); added p99: **${addedP99.toFixed(3)} ms** (goal < 1 ms).`,
    ].join('\n')
  } finally {
    for (const child of children.reverse()) if (child.exitCode === null) child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 500))
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}
