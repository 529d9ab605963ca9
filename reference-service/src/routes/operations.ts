import type { FastifyPluginAsync } from 'fastify'
import type pg from 'pg'
import type { ServiceMetrics } from '../metrics.js'

export interface OperationsRoutesOptions {
  pool: pg.Pool
  metrics: ServiceMetrics
  version: string
  isShuttingDown: () => boolean
}

/** A readiness probe that hangs is as bad as a wrong one: probes have their own timeouts. */
const READINESS_TIMEOUT_MS = 2000

/**
 * Probes and introspection. Marked `operational` so that fault injection leaves them alone:
 * a canary with injected errors must still be scrapeable and report its version.
 */
export const operationsRoutes: FastifyPluginAsync<OperationsRoutesOptions> = async (app, options) => {
  const config = { operational: true }

  // Liveness: the process answers. No database, so a database outage does not get it restarted.
  app.get('/healthz', { config }, async () => ({ status: 'ok' }))

  app.get('/readyz', { config }, async (_request, reply) => {
    if (options.isShuttingDown()) return reply.code(503).send({ status: 'shutting down' })
    try {
      await withTimeout(options.pool.query('SELECT 1'), READINESS_TIMEOUT_MS)
      return { status: 'ready' }
    } catch (error) {
      return reply.code(503).send({ status: 'database unreachable', message: (error as Error).message })
    }
  })

  app.get('/metrics', { config }, async (_request, reply) => {
    return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics())
  })

  app.get('/version', { config }, async () => ({ version: options.version }))
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
