import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import type { Settings } from '../core/index.js'
import { openDatabase, type DatabaseHandle } from '../db/index.js'
import { flagServerOptions, startFlagServer, type FlagServer } from '../flags/index.js'
import { findNPlusOne, type NPlusOneReport } from '../nplusone/index.js'
import { migrate, seed } from '../../reference-service/src/index.js'
import { nextSteps } from './next-steps.js'
import { startServiceProcess, type ServiceProcess } from './service-process.js'
import { startTraffic, type Traffic, type TrafficSummary } from './traffic.js'

export interface DemoOptions {
  settings: Settings
  port: number
  scale: number
  trafficRate: number
  /** Command ids of this opsctl build, to suggest what to try next. */
  commandIds: string[]
  log: (message: string) => void
}

export interface RunningDemo {
  database: { kind: DatabaseHandle['kind']; description: string; url: string }
  serviceUrl: string
  /** The flag server (flags.yaml over Unleash's API) the service reads its flags from, if there is a flags.yaml. */
  flagsUrl: string | undefined
  queryLog: string
  rows: Record<string, number>
  nextSteps: string[]
  stop(): Promise<DemoSummary>
}

export interface DemoSummary {
  traffic: TrafficSummary
  /** N+1 patterns the live query hook saw in the service while the demo ran. */
  nplusone: NPlusOneReport | undefined
  queryLog: string
  serviceExitCode: number | null
}

/** Database (embedded unless configured), schema and seed, the reference service, light traffic. */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const { settings, log } = options
  const cleanups: Array<() => Promise<unknown>> = []
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
  try {
    const database = await openDatabase({
      url: settings.config.database.url,
      stateDir: settings.stateDir,
      port: settings.config.database.embeddedPort,
      log,
    })
    cleanups.push(() => database.close())
    log(`Database: ${database.description}`)

    const rows = await prepareData(database.url, options.scale, log)

    const flags = await startFlags(settings, log)
    if (flags) cleanups.push(() => flags.stop())

    // The service's live query hook writes every statement here; the findings are shown at the end.
    const queryLog = join(settings.stateDir, 'demo', 'queries.jsonl')
    mkdirSync(join(settings.stateDir, 'demo'), { recursive: true })
    rmSync(queryLog, { force: true })

    log('Starting the reference service...')
    const service: ServiceProcess = await startServiceProcess({
      databaseUrl: database.url,
      port: options.port,
      env: { ...(flags ? unleashEnv(flags) : {}), OPSCTL_QUERY_LOG: queryLog },
    })
    cleanups.push(() => service.stop())

    const traffic: Traffic = startTraffic({ baseUrl: service.url, rate: options.trafficRate, users: Math.max(1, rows.users ?? 1) })
    cleanups.push(() => traffic.stop())

    return {
      database: { kind: database.kind, description: database.description, url: database.url },
      serviceUrl: service.url,
      flagsUrl: flags?.url,
      rows,
      queryLog,
      nextSteps: nextSteps(service.url, database.url, queryLog, options.commandIds),
      async stop() {
        cleanups.length = 0
        const summary = await traffic.stop()
        const serviceExitCode = await service.stop()
        await flags?.stop() // after the service, so that its last metrics arrive
        await database.close()
        const nplusone = existsSync(queryLog) ? await findNPlusOne({ serviceLogs: [queryLog] }).catch(() => undefined) : undefined
        return { traffic: summary, serviceExitCode, nplusone, queryLog }
      },
    }
  } catch (error) {
    await cleanUp()
    throw error
  }
}

async function prepareData(url: string, scale: number, log: (message: string) => void): Promise<Record<string, number>> {
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  try {
    log('Migrating the schema...')
    await migrate(pool)
    log(`Seeding (scale ${scale}; nothing to do if already seeded)...`)
    await seed(pool, { scale })
    const { rows } = await pool.query<{ table: string; count: number }>(
      `SELECT 'users' AS table, count(*)::int AS count FROM users
       UNION ALL SELECT 'products', count(*)::int FROM products
       UNION ALL SELECT 'orders', count(*)::int FROM orders
       UNION ALL SELECT 'items', count(*)::int FROM items`,
    )
    return Object.fromEntries(rows.map((row) => [row.table, row.count]))
  } finally {
    await pool.end()
  }
}

/** `flags serve` for flags.yaml, when the project has one; the service evaluates flags against it with unleash-client. */
async function startFlags(settings: Settings, log: (message: string) => void): Promise<FlagServer | undefined> {
  const options = flagServerOptions(settings, { port: 0 })
  if (!existsSync(options.file)) return undefined
  const server = await startFlagServer({
    ...options,
    onReload: (event) => {
      if (!event.ok) log(`Flags not reloaded: ${event.error?.message ?? 'invalid file'} (serving the last good version).`)
      else if (event.changed) log(`Flags reloaded from ${options.file}.`)
    },
  })
  log(`Serving ${options.file} over the Unleash API at ${server.url}.`)
  return server
}

function unleashEnv(flags: FlagServer): NodeJS.ProcessEnv {
  return {
    UNLEASH_URL: flags.url,
    UNLEASH_API_TOKEN: flags.tokens.client.development ?? Object.values(flags.tokens.client)[0],
    UNLEASH_REFRESH_INTERVAL_MS: '2000',
  }
}
