// npm run bench -- dashboard [SECONDS=60]
//
// What keeping `opsctl dashboard` open costs: its process's CPU time (user + system, from /proc)
// over SECONDS of refreshing every second with every panel live (router numbers of two
// reference-service instances under 100 requests per second, the rollout state, flags.yaml,
// incidents, database activity every 5 s, the journal), after 10 s of warm-up. Side by side in one
// run, what a user would do instead: `watch -n 1 opsctl router status` (a CLI process a second,
// counted with its children), in a tmux pane of 100×30 each, one after the other on the same scene.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { migrate, seed } from '../reference-service/src/index.js'
import { startServiceProcess } from '../src/demo/service-process.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const BIN = existsSync(join(ROOT, 'dist/commands')) ? join(ROOT, 'bin/run.js') : join(ROOT, 'bin/dev.js')
const TICKS = 100 // clock ticks per second (getconf CLK_TCK on Linux)

/** CPU seconds of a process: its own, and (with children) those of the children it has waited for. */
function cpuSeconds(pid: number, withChildren: boolean): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((index) => Number(fields[index]))
  return (utime! + stime! + (withChildren ? cutime! + cstime! : 0)) / TICKS
}

async function measure(session: string, command: string, cwd: string, seconds: number, withChildren: boolean): Promise<number> {
  const started = spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '100', '-y', '30', `cd ${cwd} && exec ${command}`])
  if (started.status !== 0) throw new Error(`tmux: ${started.stderr}`)
  try {
    const pid = Number(spawnSync('tmux', ['list-panes', '-t', session, '-F', '#{pane_pid}'], { encoding: 'utf8' }).stdout.trim())
    await new Promise((resolve) => setTimeout(resolve, 10_000))
    const before = cpuSeconds(pid, withChildren)
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
    return cpuSeconds(pid, withChildren) - before
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session])
  }
}

export default async function run(args: string[]): Promise<string> {
  const seconds = Number(args[0] ?? 60)
  const name = `opsctl_bench_dashboard_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client(SERVER)
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(SERVER)
  url.pathname = `/${name}`
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-dashboard-'))
  const stops: Array<() => Promise<unknown>> = []
  try {
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 })
    await migrate(pool)
    await seed(pool, { scale: 0.01 })
    await pool.end()
    const services = await Promise.all(
      ['v1', 'v2'].map((version) =>
        startServiceProcess({ databaseUrl: url.toString(), port: 0, env: { LOG_LEVEL: 'warn', SERVICE_VERSION: version } }),
      ),
    )
    stops.push(...services.map((service) => () => service.stop()))
    const router = spawn(
      process.execPath,
      [
        BIN,
        'router',
        'start',
        '--backend',
        `stable=${services[0]!.url}`,
        '--backend',
        `canary=${services[1]!.url}`,
        '--weights',
        'stable=90,canary=10',
        '--port',
        '0',
        '--admin-port',
        '0',
        '--json',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] },
    )
    stops.push(async () => router.kill('SIGTERM'))
    const routerUrl = await new Promise<string>((resolve, reject) => {
      router.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString().split('\n')[0]!) as { url: string }).url))
      router.once('exit', () => reject(new Error('the router exited')))
    })
    writeFileSync(
      join(dir, 'flags.yaml'),
      'flags:\n  checkout.v2:\n    type: release\n    description: The new checkout.\n    owner: team\n    created: 2026-12-01\n    environments:\n      production:\n        enabled: true\n',
    )
    spawnSync(process.execPath, [BIN, 'incident', 'start', 'Checkout is slow', '--sev', '3'], { cwd: dir })
    const traffic = spawn(
      join(ROOT, 'node_modules/.bin/autocannon'),
      ['-c', '10', '-R', '100', '-d', String(seconds * 2 + 40), `${routerUrl}/users/1/orders`],
      {
        stdio: 'ignore',
      },
    )
    stops.push(async () => traffic.kill('SIGINT'))

    const env = `NO_COLOR=1 DATABASE_URL=${url.toString()}`
    const load = [loadavg()[0]!]
    const dashboard = await measure(
      `opsctl-bench-dash-${process.pid}`,
      `env ${env} ${process.execPath} ${BIN} dashboard --interval 1s`,
      dir,
      seconds,
      false,
    )
    load.push(loadavg()[0]!)
    const watch = await measure(
      `opsctl-bench-watch-${process.pid}`,
      `env ${env} watch -n 1 ${process.execPath} ${BIN} router status`,
      dir,
      seconds,
      true,
    )
    load.push(loadavg()[0]!)
    const perMinute = (cpu: number) => ((cpu / seconds) * 60).toFixed(1)
    const share = (cpu: number) => `${((cpu / seconds) * 100).toFixed(1)}%`
    return [
      `${seconds} s measured after 10 s of warm-up, refreshing every second; ${BIN.endsWith('run.js') ? 'built CLI (dist)' : 'TypeScript sources through tsx'}. 1-minute load average ${load.map((value) => value.toFixed(2)).join(' → ')}.`,
      '',
      '| what | CPU s per minute | share of one core |',
      '| --- | ---: | ---: |',
      `| opsctl dashboard (six panels; database activity every 5 s) | ${perMinute(dashboard)} | ${share(dashboard)} |`,
      `| watch -n 1 opsctl router status (one panel's worth) | ${perMinute(watch)} | ${share(watch)} |`,
    ].join('\n')
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined)
    await admin.end()
  }
}
