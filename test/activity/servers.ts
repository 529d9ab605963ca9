/**
 * Servers the activity tests start for themselves and stop afterwards: a throwaway PostgreSQL
 * cluster with pg_stat_statements preloaded (the shared server at 5432 is never reconfigured), and
 * PgBouncer in front of the shared server. Both run as user postgres when the tests run as root
 * (neither runs as root).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/temp.js'

export const PG_BIN = '/usr/lib/postgresql/15/bin'
const asRoot = process.getuid?.() === 0

export function hasPostgresBinaries(): boolean {
  return existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_ctl'))
}

export function hasPgBouncer(): boolean {
  return spawnSync('pgbouncer', ['--version'], { encoding: 'utf8' }).status === 0
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A directory user postgres can read and write (the tests' temp dirs are root's, mode 700). */
function sharedDir(prefix: string): string {
  const dir = makeTempDir(prefix)
  chmodSync(dir, 0o777)
  return dir
}

function asPostgres(command: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
}

function run(command: string, args: string[]): void {
  const [file, argv] = asPostgres(command, args)
  const result = spawnSync(file, argv, { encoding: 'utf8', timeout: 120_000 })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`)
}

export interface Cluster {
  url: string
  stop(): void
}

/** initdb + pg_ctl start on a free port, with the given settings (-c name=value). */
export async function startCluster(settings: Record<string, string>): Promise<Cluster> {
  const dir = sharedDir('opsctl-activity-cluster-')
  const data = join(dir, 'data')
  const port = await freePort()
  run(join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ]
  run(join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', options.join(' '), '-w', '-t', '120', 'start'])
  let stopped = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return
      stopped = true
      run(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
    },
  }
}

export interface Bouncer {
  /** The admin console. */
  adminUrl: string
  /** A client URL for `database` through PgBouncer. */
  urlFor(database: string): string
  stop(): Promise<void>
}

/** PgBouncer (foreground, so that the test owns the process) in front of 127.0.0.1:5432. */
export async function startPgBouncer(settings: Record<string, string | number>): Promise<Bouncer> {
  const dir = sharedDir('opsctl-activity-pgbouncer-')
  const port = await freePort()
  writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n')
  const lines = [
    '[databases]',
    '* = host=127.0.0.1 port=5432',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'users.txt')}`,
    'admin_users = postgres',
    ...Object.entries(settings).map(([name, value]) => `${name} = ${value}`),
  ]
  writeFileSync(join(dir, 'pgbouncer.ini'), `${lines.join('\n')}\n`)
  const child: ChildProcess = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  for (let attempt = 0; ; attempt++) {
    if (await accepts(port)) break
    if (attempt > 100 || child.exitCode !== null) throw new Error(`pgbouncer did not start:\n${log}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/pgbouncer`,
    urlFor: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT')
      await exited
    },
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
