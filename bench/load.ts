// Throughput of opsctl's load runner against the raw autocannon CLI and wrk, on the same
// hello-world node:http server (in its own process), with the same connections and duration;
// each generator runs in a process of its own.
// Rounds rotate the order of the three tools so that machine noise hits each alike; the table
// gives the median req/s of each, and the ratio to autocannon is the median of the ratios within
// each round (a paired comparison: both tools ran within seconds of each other).
// Goal: opsctl at least 0.95x autocannon.
//
//   npm run bench -- load [duration-seconds=5] [connections=10] [rounds=6]
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

interface Sample {
  rps: number
  /** CPU time of the generator per request, microseconds: unlike req/s, barely moved by other load on the machine. */
  cpuPerRequest: number
  note: string
}

/** CPU seconds of the children this process has waited for (Linux: cutime + cstime of /proc/self/stat). */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8')
    .replace(/^.*\) /, '')
    .split(' ')
  return (Number(fields[13]) + Number(fields[14])) / 100
}

/** spawnSync, with the child's CPU time. */
function measured(
  command: string,
  args: string[],
  options: Parameters<typeof spawnSync>[2] = {},
): { stdout: string; stderr: string; status: number | null; error?: Error; cpuSeconds: number } {
  const before = childrenCpuSeconds()
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options })
  return {
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    status: result.status,
    ...(result.error ? { error: result.error } : {}),
    cpuSeconds: childrenCpuSeconds() - before,
  }
}

const SERVER = `
  const http = require('node:http')
  const server = http.createServer((request, response) => {
    response.setHeader('content-type', 'text/plain')
    response.end('hello world')
  })
  server.keepAliveTimeout = 60000
  server.listen(0, '127.0.0.1', () => console.log(server.address().port))
`

async function startServer(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
    child.once('exit', (code) => reject(new Error(`hello-world server exited with ${code}`)))
  })
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') }
}

/**
 * The programmatic runner (planLoad + runOnce), in a fresh process of its own like the
 * autocannon CLI, so that neither generator carries the other's heap or modules. Its CPU is
 * measured around the run (the process also compiles TypeScript at start-up).
 */
function opsctl(url: string, seconds: number, connections: number): Sample {
  const script = `
    const { planLoad } = await import(${JSON.stringify(`${root}src/load/index.ts`)})
    const { runOnce } = await import(${JSON.stringify(`${root}src/load/runner.ts`)})
    const plan = await planLoad({ source: { url: { url: ${JSON.stringify(url)} } }, overrides: { connections: ${connections}, durationMs: ${seconds * 1000} } })
    const cpu = process.cpuUsage()
    const run = await runOnce(plan)
    const used = process.cpuUsage(cpu)
    console.log(JSON.stringify({ rps: run.rps, requests: run.requests.total, cpuMicros: used.user + used.system, generator: run.generator }))
  `
  const result = measured(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root })
  if (result.status !== 0) throw new Error(`opsctl runner failed: ${result.stderr}`)
  const parsed = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
    rps: number
    requests: number
    cpuMicros: number
    generator: { eventLoopUtilization: number; saturated: boolean }
  }
  const generator = parsed.generator
  return {
    rps: parsed.rps,
    cpuPerRequest: parsed.cpuMicros / parsed.requests,
    note: `event loop ${(generator.eventLoopUtilization * 100).toFixed(0)}% busy${generator.saturated ? ' (saturated)' : ''}`,
  }
}

function autocannonCli(url: string, seconds: number, connections: number): Sample {
  const result = measured(`${root}/node_modules/.bin/autocannon`, ['-c', String(connections), '-d', String(seconds), '--json', url])
  if (result.status !== 0) throw new Error(`autocannon failed: ${result.stderr}`)
  const json = JSON.parse(result.stdout) as { requests: { total: number }; duration: number; errors: number }
  return {
    rps: json.requests.total / json.duration,
    cpuPerRequest: (result.cpuSeconds * 1e6) / json.requests.total,
    note: `${json.errors} errors`,
  }
}

function wrk(url: string, seconds: number, connections: number): Sample {
  const result = measured('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, url])
  if (result.error || result.status !== 0) throw new Error(`wrk failed: ${result.error?.message ?? result.stderr}`)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(result.stdout)?.[1]
  const requests = /(\d+) requests in/.exec(result.stdout)?.[1]
  if (!rps || !requests) throw new Error(`cannot read wrk's output:\n${result.stdout}`)
  return { rps: Number(rps), cpuPerRequest: (result.cpuSeconds * 1e6) / Number(requests), note: '1 thread' }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export default async function run(args: string[]): Promise<string> {
  const seconds = Number(args[0] ?? 5)
  const connections = Number(args[1] ?? 10)
  const rounds = Number(args[2] ?? 6)
  const hasWrk = spawnSync('wrk', ['--version']).error === undefined
  const server = await startServer()
  const tools: Record<string, (url: string, seconds: number, connections: number) => Sample> = {
    'opsctl load (runner)': opsctl,
    'autocannon CLI': autocannonCli,
    ...(hasWrk ? { wrk } : {}),
  }
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(tools).map((name) => [name, []]))
  try {
    // warm the server and the JIT of both node generators
    opsctl(server.url, 1, connections)
    autocannonCli(server.url, 1, connections)
    const names = Object.keys(tools)
    for (let round = 0; round < rounds; round++) {
      const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)]
      for (const name of order) samples[name]!.push(tools[name]!(server.url, seconds, connections))
    }
  } finally {
    server.stop()
  }
  const reference = samples['autocannon CLI']!.map((sample) => sample.rps)
  const pairedRatio = (runs: Array<{ rps: number }>) => median(runs.map((sample, round) => sample.rps / reference[round]!))
  const rows = Object.entries(samples).map(([name, runs]) => {
    const rps = median(runs.map((sample) => sample.rps))
    const all = runs.map((sample) => sample.rps.toFixed(0)).join(', ')
    const cpu = median(runs.map((sample) => sample.cpuPerRequest))
    return `| ${name} | ${rps.toFixed(0)} | ${all} | ${pairedRatio(runs).toFixed(2)}x | ${cpu.toFixed(1)} | ${runs.at(-1)!.note} |`
  })
  const ratio = pairedRatio(samples['opsctl load (runner)']!)
  return [
    `Hello-world node:http server in its own process; ${connections} connections, ${seconds}s per run, ${rounds} rounds in rotating order.`,
    "req/s: median over the rounds; vs autocannon: median of the per-round ratios; CPU µs/request: the generator process's CPU time",
    "per request (median; autocannon's includes its start-up, opsctl's covers the run only).",
    hasWrk ? '' : 'wrk is not installed (apt-get install wrk); its row is missing.',
    '',
    '| tool | req/s (median) | each round | vs autocannon | CPU µs/request | last run |',
    '| --- | ---: | --- | ---: | ---: | --- |',
    ...rows,
    '',
    `opsctl / autocannon: **${ratio.toFixed(2)}** (goal ≥ 0.95).`,
  ]
    .filter((line, index, lines) => line !== '' || lines[index - 1] !== '')
    .join('\n')
}
