import { join } from 'node:path'
import { environmentError, redactText, type Settings } from '../core/index.js'
import { acquireEmbeddedLock, removeEmbeddedInfo, startEmbeddedServer, writeEmbeddedInfo } from './embedded.js'
import { probeDatabase } from './probe.js'

export interface OpenDatabaseOptions {
  /** DATABASE_URL or database.url; without it, the embedded database. */
  url?: string | undefined
  /** `.opsctl/`: the embedded database keeps its data in `pgdata/` here. */
  stateDir: string
  /** Port for a newly started embedded server (0 = any free port). */
  port?: number
  log?: (message: string) => void
}

export interface DatabaseHandle {
  /** A PostgreSQL URL any client can use; for the embedded database it points at 127.0.0.1. */
  url: string
  kind: 'server' | 'embedded'
  /** Human description without secrets, e.g. "PostgreSQL at 127.0.0.1:5432/app". */
  description: string
  close(): Promise<void>
}

/**
 * The one place that decides which database opsctl talks to: the server at `url`, or the
 * embedded PGlite. Callers get a URL and never need to know which they got.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) return openServer(options.url)

  const dataDir = join(options.stateDir, 'pgdata')
  const lock = await acquireEmbeddedLock(options.stateDir)
  if ('url' in lock) {
    options.log?.(`Using the embedded database already served by process ${lock.pid} on port ${lock.port}.`)
    return { url: lock.url, kind: 'embedded', description: describeEmbedded(lock.port, dataDir), close: async () => {} }
  }

  options.log?.(`Starting the embedded database (PGlite) with data in ${dataDir}.`)
  let server
  try {
    server = await startEmbeddedServer({ dataDir, port: options.port ?? 0 })
    writeEmbeddedInfo(options.stateDir, { pid: process.pid, port: server.port, url: server.url, dataDir })
  } catch (error) {
    lock.release()
    throw error
  }
  let closed = false
  return {
    url: server.url,
    kind: 'embedded',
    description: describeEmbedded(server.port, dataDir),
    async close() {
      if (closed) return
      closed = true
      removeEmbeddedInfo(options.stateDir, process.pid)
      await server.stop()
      lock.release()
    },
  }
}

async function openServer(url: string): Promise<DatabaseHandle> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw environmentError(`Invalid database URL "${redactText(url)}"`, 'Use postgres://USER:PASSWORD@HOST:PORT/DATABASE.')
  }
  const description = `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`
  const failure = await probeDatabase(url)
  if (failure) {
    throw environmentError(
      `Cannot connect to ${description}: ${redactText(failure.message)}`,
      'Check that the server is running and DATABASE_URL is right, or unset DATABASE_URL to use the embedded database.',
      failure,
    )
  }
  return { url, kind: 'server', description, close: async () => {} }
}

function describeEmbedded(port: number, dataDir: string): string {
  return `embedded PGlite on 127.0.0.1:${port} (data in ${dataDir})`
}

/**
 * Opens the database the settings name (database.url, DATABASE_URL, or the embedded one), runs
 * `work` with it, and closes it whatever happens: the one open/close block of every command
 * that needs a database.
 */
export async function withDatabase<T>(
  settings: Pick<Settings, 'config' | 'stateDir'>,
  work: (database: DatabaseHandle) => Promise<T>,
  options: { log?: (message: string) => void } = {},
): Promise<T> {
  const { config, stateDir } = settings
  const database = await openDatabase({ url: config.database.url, stateDir, port: config.database.embeddedPort, log: options.log })
  try {
    return await work(database)
  } finally {
    await database.close()
  }
}
