import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * A throwaway PostgreSQL cluster with statement logging to stderr, csvlog and jsonlog at once
 * (logging_collector on), started on a free port for one test file and deleted afterwards.
 * initdb refuses to run as root, so as root everything runs as the `postgres` user.
 */
export interface ThrowawayCluster {
  port: number
  url(database?: string): string
  logs: { stderr: string; csv: string; json: string }
  stop(): Promise<void>
}

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'

/** Why a cluster cannot be started here, or undefined when it can. */
export function clusterUnavailableReason(): string | undefined {
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(BIN, tool))) return `PostgreSQL server binaries not found in ${BIN} (set PG_BIN)`
  }
  if (process.getuid?.() === 0) {
    if (spawnSync('runuser', ['--help']).error) return 'running as root without runuser to start PostgreSQL as postgres'
    if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root but there is no postgres user to run initdb as'
  }
  return undefined
}

function asPostgres(command: string, args: string[]): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', command, ...args] : [command, ...args]
}

function run(command: string[], what: string): void {
  const result = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000 })
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}): ${result.stderr || result.stdout}`)
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

export async function startThrowawayCluster(settings: Record<string, string> = {}): Promise<ThrowawayCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-nplusone-pg-'))
  const data = join(dir, 'data')
  const logDir = join(dir, 'log')
  mkdirSync(logDir)
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, uid, gid)
    chownSync(logDir, uid, gid)
  }
  const port = await freePort()
  const stop = async () => {
    if (existsSync(join(data, 'postmaster.pid'))) {
      const command = asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'])
      spawnSync(command[0]!, command.slice(1), { timeout: 60_000 })
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    run(asPostgres(join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']), 'initdb')
    const conf = {
      port: String(port),
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: `'${dir}'`,
      fsync: 'off',
      logging_collector: 'on',
      log_destination: "'stderr,csvlog,jsonlog'",
      log_directory: `'${logDir}'`,
      log_filename: "'postgresql'",
      log_rotation_age: '0',
      log_rotation_size: '0',
      log_line_prefix: "'%m [%p] %q%u@%d '",
      log_min_duration_statement: '0',
      log_connections: 'on',
      log_disconnections: 'on',
      shared_buffers: '32MB',
      max_connections: '40',
      ...settings,
    }
    appendFileSync(
      join(data, 'postgresql.conf'),
      `\n${Object.entries(conf)
        .map(([key, value]) => `${key} = ${value}`)
        .join('\n')}\n`,
    )
    run(asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']), 'pg_ctl start')
  } catch (error) {
    await stop()
    throw error
  }
  return {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    logs: { stderr: join(logDir, 'postgresql'), csv: join(logDir, 'postgresql.csv'), json: join(logDir, 'postgresql.json') },
    stop,
  }
}

/** Waits until every file contains `marker` (the logging collector writes asynchronously). */
export async function waitForText(files: string[], marker: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const missing = files.filter((file) => !existsSync(file) || !readFileSync(file, 'utf8').includes(marker))
    if (missing.length === 0) return
    if (Date.now() > deadline) throw new Error(`the server log never showed ${marker} in ${missing.join(', ')}`)
    await sleep(50)
  }
}

/** Copies bytes [from, to) of a file into `target`: one phase of a log that keeps growing. */
export function sliceFile(source: string, from: number, to: number, target: string): string {
  const bytes = readFileSync(source).subarray(from, to)
  writeFileSync(target, bytes)
  return target
}

export function sizeOf(file: string): number {
  return existsSync(file) ? statSync(file).size : 0
}
