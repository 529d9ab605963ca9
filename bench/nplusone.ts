// npm run bench -- nplusone [SIZE] [--keep] [--skip-pgbadger]
//
// Throughput (MB/s) and peak memory of `opsctl db nplusone` and `opsctl db top` on a generated
// PostgreSQL stderr log (Debian prefix, log_min_duration_statement = 0, extended protocol with
// parse/bind/execute lines and parameter details, simple-protocol statements with literals,
// multi-line statements, errors, connections), side by side with pgBadger on the same file.
// Memory is also measured on a fifth of the file: flat memory means the same peak for both.
// The log is generated into a temporary directory and deleted afterwards (unless --keep).
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatBytes, parseSize } from '../src/core/index.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PREFIX = '%m [%p] %q%u@%d '

interface Measurement {
  tool: string
  input: string
  bytes: number
  seconds: number
  peakKb: number | undefined
  status: number | null
  note?: string
}

export default async function run(args: string[]): Promise<string> {
  const size = parseSize(args.find((arg) => !arg.startsWith('--')) ?? '500MB', 'bench size')
  const keep = args.includes('--keep')
  const skipPgBadger = args.includes('--skip-pgbadger')
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-nplusone-'))
  try {
    const full = join(dir, 'postgresql.log')
    const fifth = join(dir, 'postgresql-fifth.log')
    process.stderr.write(`Generating ${formatBytes(size)} of PostgreSQL stderr log in ${dir}...\n`)
    const generated = generateLog(full, size)
    generateLog(fifth, Math.round(size / 5))
    process.stderr.write(
      `  ${generated.lines.toLocaleString('en-US')} lines, ${generated.statements.toLocaleString('en-US')} statements, ${generated.nplusones} N+1 requests\n`,
    )

    const results: Measurement[] = []
    const opsctl = (command: string, file: string, env: NodeJS.ProcessEnv = {}) =>
      measure(
        `opsctl db ${command}${env.NODE_OPTIONS ? ` (${env.NODE_OPTIONS})` : ''}`,
        file,
        process.execPath,
        [join(ROOT, 'bin/dev.js'), 'db', command, '--log', file, '--json'],
        env,
      )
    results.push(await opsctl('nplusone', full))
    results.push(await opsctl('top', full))
    results.push(await opsctl('nplusone', fifth))
    // V8 grows its heap when it may; capped, the whole log still streams through: what is kept is bounded.
    results.push(await opsctl('nplusone', full, { NODE_OPTIONS: '--max-old-space-size=128' }))
    results.push(await opsctl('nplusone', join(ROOT, 'test/nplusone/fixtures/shop.log')))
    if (skipPgBadger) {
      process.stderr.write('Skipping pgBadger (--skip-pgbadger)\n')
    } else if (!existsSync('/usr/bin/pgbadger')) {
      process.stderr.write('pgBadger is not installed (apt-get install pgbadger); skipping it\n')
    } else {
      const out = join(dir, 'pgbadger.txt')
      results.push(
        await measure('pgbadger', full, '/usr/bin/pgbadger', ['-f', 'stderr', '--prefix', PREFIX, '-o', out, '-x', 'text', '-q', full]),
      )
      results.push(
        await measure('pgbadger', fifth, '/usr/bin/pgbadger', ['-f', 'stderr', '--prefix', PREFIX, '-o', out, '-x', 'text', '-q', fifth]),
      )
    }
    return report(results, generated)
  } finally {
    if (keep) process.stderr.write(`Kept ${dir}\n`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

function report(results: Measurement[], generated: { lines: number; statements: number; nplusones: number }): string {
  const mbps = (result: Measurement) => result.bytes / 1e6 / result.seconds
  const pgbadger = results.find((result) => result.tool === 'pgbadger' && result.input === 'full')
  const lines = [
    `Generated stderr log: ${generated.lines.toLocaleString('en-US')} lines, ${generated.statements.toLocaleString('en-US')} statements, ${generated.nplusones.toLocaleString('en-US')} requests with an N+1.`,
    '',
    '| Tool | Input | Size | Wall time | Throughput | Peak RSS | vs pgBadger |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const result of results) {
    const ratio =
      pgbadger && result.tool !== 'pgbadger' && !result.input.startsWith('fixture') ? `${(mbps(result) / mbps(pgbadger)).toFixed(1)}x` : '–'
    lines.push(
      `| ${result.tool} | ${result.input} | ${formatBytes(result.bytes)} | ${result.seconds.toFixed(1)} s | ${mbps(result).toFixed(1)} MB/s | ${result.peakKb === undefined ? '?' : `${Math.round(result.peakKb / 1024)} MB`} | ${ratio} |${result.status === 0 ? '' : ` exit ${result.status}`}`,
    )
  }
  lines.push(
    '',
    'Wall time includes process start-up: opsctl runs from the TypeScript sources through tsx, and the fixture row is that start-up',
    'alone (time and memory). Peak RSS from /usr/bin/time -v (else VmHWM). With the old-space heap capped at 128MB the 500MB log',
    'still streams through: what opsctl keeps is bounded; the uncapped peak is V8 growing its heap because it may.',
  )
  return lines.join('\n')
}

/** Runs a command, timing it and reading its peak resident memory (via /usr/bin/time -v when present). */
async function measure(tool: string, file: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measurement> {
  const bytes = statSync(file).size
  const input = file.endsWith('fifth.log') ? 'a fifth' : file.endsWith('shop.log') ? 'fixture (start-up only)' : 'full'
  process.stderr.write(`Running ${tool} on ${input} (${formatBytes(bytes)})...\n`)
  const useTime = existsSync('/usr/bin/time')
  const started = performance.now()
  const child = spawn(useTime ? '/usr/bin/time' : command, useTime ? ['-v', command, ...args] : args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: ROOT,
    env: { ...process.env, ...env },
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    if (stderr.length > 1_000_000) stderr = stderr.slice(-100_000)
  })
  let peakKb: number | undefined
  const poll = useTime
    ? undefined
    : setInterval(() => {
        try {
          const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
          if (match) peakKb = Math.max(peakKb ?? 0, Number(match[1]))
        } catch {
          // the process has exited
        }
      }, 100)
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const seconds = (performance.now() - started) / 1000
  if (poll) clearInterval(poll)
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
  if (rss) peakKb = Number(rss[1])
  if (status !== 0) process.stderr.write(`${tool} exited with ${status}:\n${stderr.slice(-2000)}\n`)
  return { tool, input, bytes, seconds, peakKb, status }
}

/** A deterministic pseudo-random stream (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/**
 * Writes `target` bytes of log: requests on 64 backends, each a user lookup, an orders query,
 * then either one items query per order (an N+1, one request in four) or one batched query;
 * now and then a simple-protocol statement with literals, a multi-line report query, an
 * error, a connection and a disconnection.
 */
export function generateLog(path: string, target: number): { lines: number; statements: number; nplusones: number } {
  const next = random(42)
  const fd = openSync(path, 'w')
  let buffer = ''
  let written = 0
  let lines = 0
  let statements = 0
  let nplusones = 0
  let clock = Date.UTC(2024, 4, 1, 8, 0, 0)
  const pids = Array.from({ length: 64 }, (_, i) => 20_000 + i)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  const stamp = () => {
    const date = new Date(Math.floor(clock))
    return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)} UTC`
  }
  const line = (pid: number, text: string) => {
    buffer += `${stamp()} [${pid}] app@shop ${text}\n`
    lines++
    if (buffer.length > 4_000_000) flush()
  }
  const flush = () => {
    written += writeSync(fd, buffer)
    buffer = ''
  }
  const duration = () => (0.01 + next() * next() * 2).toFixed(3)
  const execute = (pid: number, sql: string, params: string) => {
    clock += 0.05 + next() * 0.2
    line(pid, `LOG:  duration: ${duration()} ms  parse <unnamed>: ${sql}`)
    line(pid, `LOG:  duration: ${duration()} ms  bind <unnamed>: ${sql}`)
    line(pid, `DETAIL:  parameters: ${params}`)
    line(pid, `LOG:  duration: ${duration()} ms  execute <unnamed>: ${sql}`)
    line(pid, `DETAIL:  parameters: ${params}`)
    statements++
  }
  const simple = (pid: number, sql: string) => {
    clock += 0.05 + next() * 0.2
    line(pid, `LOG:  duration: ${duration()} ms  statement: ${sql}`)
    statements++
  }

  while (written + buffer.length < target) {
    const pid = pids[Math.floor(next() * pids.length)]!
    clock += 1 + next() * 3
    const user = 1 + Math.floor(next() * 5000)
    const roll = next()
    if (roll < 0.01) {
      line(pid, 'LOG:  disconnection: session time: 0:01:02.003 user=app database=shop host=10.0.0.7 port=51234')
      line(pid, 'LOG:  connection authorized: user=app database=shop application_name=shop-api')
    }
    execute(pid, 'SELECT 1 FROM users WHERE id = $1', `$1 = '${user}'`)
    execute(pid, 'SELECT id, user_id, status, created_at FROM orders WHERE user_id = $1 ORDER BY created_at, id', `$1 = '${user}'`)
    const orders = 1 + Math.floor(next() * 8)
    if (next() < 0.25) {
      nplusones++
      for (let i = 0; i < orders; i++) {
        execute(
          pid,
          'SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE order_id = $1 ORDER BY id',
          `$1 = '${user * 4 + i}'`,
        )
      }
    } else {
      const ids = Array.from({ length: orders }, (_, i) => user * 4 + i).join(',')
      execute(
        pid,
        'SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE order_id = ANY($1::int[]) ORDER BY order_id, id',
        `$1 = '{${ids}}'`,
      )
    }
    if (roll < 0.2)
      simple(
        pid,
        `SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE sku = 'SKU-${Math.floor(next() * 100_000)}' ORDER BY id`,
      )
    else if (roll < 0.23) {
      simple(pid, `SELECT date_trunc('month', o.created_at) AS month, p.sku, sum(i.quantity * i.price_cents) AS revenue`)
      buffer += `\tFROM orders o\n\tJOIN items i ON i.order_id = o.id\n\tJOIN products p ON p.id = i.product_id\n\tWHERE o.created_at >= '2024-01-01' AND o.user_id <> ${user}\n\tGROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10\n`
      lines += 5
    } else if (roll < 0.235) {
      clock += 0.1
      line(pid, 'ERROR:  duplicate key value violates unique constraint "users_email_key"')
      line(pid, `DETAIL:  Key (email)=(user${user}@example.test) already exists.`)
      line(pid, `STATEMENT:  INSERT INTO users (email, name) VALUES ('user${user}@example.test', 'Ada Lovelace')`)
    } else if (roll < 0.24) {
      buffer += `${stamp()} [${pids[0]! - 100}] LOG:  checkpoint starting: time\n`
      lines++
    }
  }
  flush()
  closeSync(fd)
  return { lines, statements, nplusones }
}

// Allow `npx tsx bench/nplusone.ts 100MB` as well as `npm run bench -- nplusone`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await run(process.argv.slice(2)))
}
