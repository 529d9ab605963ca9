import type { AddressInfo } from 'node:net'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import pg from 'pg'
import { isOpsError } from '../../src/core/index.js'
import { openDatabase, type DatabaseHandle } from '../../src/db/index.js'
import { createJsonLinesSink, instrumentPg } from '../../src/nplusone/index.js'
import { buildApp } from './app.js'
import { ConfigError, type ServiceConfig } from './config.js'
import type { FlagProvider } from './flags.js'
import { migrate } from './migrate.js'
import { seed } from './seed.js'
import { repositoryRoot } from './version.js'

export interface ReferenceServiceOptions {
  config: ServiceConfig
  /** The service takes ownership: stop() closes it. */
  flags: FlagProvider
  version: string
  logger?: FastifyBaseLogger
  random?: () => number
}

export interface ReferenceService {
  app: FastifyInstance
  url: string
  port: number
  database: { kind: DatabaseHandle['kind']; description: string }
  /** Drains in-flight requests, then closes the pool, the flags and the database handle. Idempotent. */
  stop(): Promise<void>
}

/**
 * PGlite runs one statement at a time behind the socket server's multiplexer: more connections
 * buy nothing and would take slots from opsctl's own clients of the same embedded database.
 */
const EMBEDDED_POOL_MAX = 4
/** A pool that cannot connect should fail the request, not queue it forever. */
const CONNECT_TIMEOUT_MS = 5000

/** Opens the database, migrates and seeds if asked, and listens. */
export async function startReferenceService(options: ReferenceServiceOptions): Promise<ReferenceService> {
  const { config } = options
  const logger = options.logger
  const database = await openDatabase({
    url: config.databaseUrl,
    stateDir: config.stateDir,
    log: (message) => logger?.info(message),
  })
  const pool = new pg.Pool({
    connectionString: database.url,
    max: database.kind === 'embedded' ? Math.min(config.poolMax, EMBEDDED_POOL_MAX) : config.poolMax,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (error) => logger?.warn({ err: error }, 'an idle database connection failed'))
  // The live query hook: every statement, with its request and call site, for `opsctl db nplusone`.
  const queryLog = config.queryLog
    ? createJsonLinesSink(config.queryLog, { onError: (message) => logger?.warn({ queryLog: config.queryLog }, message) })
    : undefined
  const hook = queryLog
    ? instrumentPg(pg, { onExecution: queryLog.write, unitSampleRate: config.querySampleRate, root: repositoryRoot() ?? process.cwd() })
    : undefined
  const release = async () => {
    await pool.end().catch(() => {})
    hook?.uninstall()
    await queryLog?.close()
    if (queryLog?.dropped) logger?.warn({ queryLog: queryLog.path, dropped: queryLog.dropped }, 'query log records dropped')
    await options.flags.close?.().catch(() => {})
    await database.close()
  }

  try {
    if (config.migrate) {
      const result = await migrate(pool)
      logger?.info({ applied: result.applied, schemaVersion: result.current }, 'migrated')
    }
    if (config.seed) {
      const started = performance.now()
      const result = await seed(pool, { scale: config.seedScale })
      logger?.info(
        { ...result, scale: config.seedScale, ms: Math.round(performance.now() - started) },
        result.seeded ? 'seeded' : 'already seeded',
      )
    }
    const app = buildApp({
      pool,
      flags: options.flags,
      version: options.version,
      faults: config.faults,
      unitsOfWork: queryLog !== undefined,
      ...(logger ? { logger } : {}),
      ...(options.random ? { random: options.random } : {}),
    })
    await app.listen({ port: config.port, host: config.host })
    const { port } = app.server.address() as AddressInfo
    let stopping: Promise<void> | undefined
    return {
      app,
      url: serviceUrl(config.host, port),
      port,
      database: { kind: database.kind, description: database.description },
      stop() {
        stopping ??= app.close().then(release)
        return stopping
      },
    }
  } catch (error) {
    await release()
    throw error
  }
}

/** A URL a client on this host can use: wildcard addresses are reached through loopback. */
export function serviceUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `http://127.0.0.1:${port}`
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`
}

/** The house exit codes: 2 for bad settings; an OpsError knows its own (3: database unreachable). */
export function startupExitCode(error: unknown): number {
  if (error instanceof ConfigError) return 2
  return isOpsError(error) ? error.exit : 1
}
