/**
 * Entry point: `node dist/reference-service/src/server.js` (or `node --import tsx
 * reference-service/src/server.ts`). Configuration comes from the environment; see README.md.
 *
 * Only modules that load neither `pg` nor `http` are imported statically: tracing has to patch
 * those before their first import, so the rest of the service is imported after it starts.
 */
import { ConfigError, loadServiceConfig, type ServiceConfig } from './config.js'
import { startTracing } from './tracing.js'

/** After this long a drain is stuck (a client holding a request open); exit anyway, with 1. */
const SHUTDOWN_TIMEOUT_MS = 10_000

async function main(): Promise<void> {
  let config: ServiceConfig
  try {
    config = loadServiceConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`reference-service: ${error.message}\n`)
    process.exit(2)
  }

  const tracing = await startTracing(process.env)
  const [{ startReferenceService, startupExitCode }, { createLogger }, { flagProviderFromEnv }, { readServiceVersion }] = await Promise.all(
    [import('./service.js'), import('./logger.js'), import('./flags.js'), import('./version.js')],
  )
  const logger = createLogger(config.logLevel)

  let service: Awaited<ReturnType<typeof startReferenceService>>
  let version: string
  try {
    version = config.versionOverride ?? readServiceVersion()
    const flags = await flagProviderFromEnv(process.env, (message) => logger.warn(message))
    service = await startReferenceService({ config, logger, flags, version })
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start')
    await tracing?.shutdown().catch(() => {})
    process.exit(startupExitCode(error))
  }

  // The line `opsctl demo` and tests wait for; printed whatever LOG_LEVEL says (README.md).
  logger.child({}, { level: 'info' }).info(
    {
      url: service.url,
      port: service.port,
      host: config.host,
      version,
      database: service.database.description,
      tracing: tracing !== undefined,
    },
    'listening',
  )

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'draining in-flight requests before exit')
    setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown did not finish in time; exiting anyway')
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS).unref()
    service
      .stop()
      .then(() => tracing?.shutdown())
      .then(
        () => {
          logger.info('stopped')
          process.exit(0)
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed')
          process.exit(1)
        },
      )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

await main()
