import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { environmentError, isProcessAlive } from '../core/index.js'
import { canConnect } from './probe.js'

export interface EmbeddedServerInfo {
  pid: number
  port: number
  url: string
  dataDir: string
}

export interface StartEmbeddedOptions {
  /** A directory for persistent data, or 'memory://' for a throwaway database. */
  dataDir: string
  port?: number
  /** Concurrent connections the socket server multiplexes onto PGlite (a pool needs several). */
  maxConnections?: number
}

export interface EmbeddedServer {
  url: string
  port: number
  stop(): Promise<void>
}

/**
 * PGlite (PostgreSQL compiled to wasm) served over the wire protocol on 127.0.0.1, so that
 * `pg` and every other PostgreSQL client can use it exactly like a real server.
 */
export async function startEmbeddedServer(options: StartEmbeddedOptions): Promise<EmbeddedServer> {
  // Loaded lazily: PGlite is large and most commands never need it.
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  if (options.dataDir !== 'memory://') mkdirSync(options.dataDir, { recursive: true })
  let db
  try {
    db = await PGlite.create(options.dataDir)
  } catch (error) {
    throw environmentError(
      `Cannot open the embedded database in ${options.dataDir}: ${(error as Error).message}`,
      'Another process may be using it, or the directory is damaged; stop other opsctl processes or remove the directory.',
      error,
    )
  }
  keepExtendedProtocolSequencesTogether(db)
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port ?? 0, maxConnections: options.maxConnections ?? 32 })
  await server.start()
  const port = Number(server.getServerConn().split(':').pop())
  return {
    port,
    url: embeddedUrl(port),
    async stop() {
      await server.stop()
      await db.close()
    },
  }
}

/** Message types of the extended query protocol that open a sequence only Sync (or a simple Query) ends. */
const EXTENDED_PROTOCOL_MESSAGES = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((letter) => letter.charCodeAt(0)))
const ENDS_SEQUENCE = new Set(['S', 'Q'].map((letter) => letter.charCodeAt(0)))

interface MultiplexedBackend {
  isInTransaction(): boolean
  execProtocolRawStream(message: Uint8Array, options: never): Promise<unknown>
}

/**
 * pglite-socket multiplexes many connections onto PGlite's one backend, message by message,
 * and keeps a connection exclusive only inside an explicit transaction. A parameterised query
 * is several messages (Parse, Bind, Describe, Execute, Sync), so another connection's
 * messages could land between them: concurrent pool queries then got each other's results
 * (seen as empty result sets under load). Treating an open extended-protocol sequence like a
 * transaction makes the multiplexer finish it before serving anyone else.
 */
export function keepExtendedProtocolSequencesTogether(db: MultiplexedBackend): void {
  let sequenceOpen = false
  const execute = db.execProtocolRawStream.bind(db)
  const inTransaction = db.isInTransaction.bind(db)
  db.execProtocolRawStream = (message, options) => {
    const type = message[0] ?? 0
    if (ENDS_SEQUENCE.has(type)) sequenceOpen = false
    else if (EXTENDED_PROTOCOL_MESSAGES.has(type)) sequenceOpen = true
    return execute(message, options)
  }
  db.isInTransaction = () => sequenceOpen || inTransaction()
}

export function embeddedUrl(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/postgres`
}

// --- sharing one embedded server between processes (demo + CLI commands) ---

export function embeddedInfoPath(stateDir: string): string {
  return join(stateDir, 'embedded-db.json')
}

/** The embedded server another opsctl process is running on this state directory, if it still answers. */
export async function findRunningEmbeddedServer(stateDir: string): Promise<EmbeddedServerInfo | undefined> {
  let info: EmbeddedServerInfo
  try {
    info = JSON.parse(readFileSync(embeddedInfoPath(stateDir), 'utf8')) as EmbeddedServerInfo
  } catch {
    return undefined
  }
  if (!isProcessAlive(info.pid) || !(await canConnect(info.url))) return undefined
  return info
}

export function writeEmbeddedInfo(stateDir: string, info: EmbeddedServerInfo): void {
  mkdirSync(stateDir, { recursive: true })
  writeFileSync(embeddedInfoPath(stateDir), `${JSON.stringify(info, null, 2)}\n`)
}

export function removeEmbeddedInfo(stateDir: string, pid: number): void {
  try {
    const info = JSON.parse(readFileSync(embeddedInfoPath(stateDir), 'utf8')) as EmbeddedServerInfo
    if (info.pid === pid) rmSync(embeddedInfoPath(stateDir), { force: true })
  } catch {
    // Already gone.
  }
}

/**
 * PGlite must not open one data directory from two processes. The process that creates
 * `embedded-db.lock` (atomically, with O_EXCL) starts the server; others wait for it and
 * connect. A lock left by a dead process is taken over.
 */
export async function acquireEmbeddedLock(stateDir: string, timeoutMs = 60_000): Promise<{ release(): void } | EmbeddedServerInfo> {
  mkdirSync(stateDir, { recursive: true })
  const lockPath = join(stateDir, 'embedded-db.lock')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const running = await findRunningEmbeddedServer(stateDir)
    if (running) return running
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' })
      return { release: () => rmSync(lockPath, { force: true }) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = Number(readFileSync(lockPath, 'utf8').trim() || 'NaN')
    if (Number.isInteger(owner) && owner !== process.pid && !isProcessAlive(owner)) rmSync(lockPath, { force: true })
    else await sleep(200)
  }
  throw environmentError(
    `Timed out waiting for another opsctl process to start the embedded database in ${stateDir}`,
    `If no opsctl process is running, remove ${lockPath}.`,
  )
}
