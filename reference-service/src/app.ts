import { STATUS_CODES } from 'node:http'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import type pg from 'pg'
import { NO_FAULTS, type FaultSettings } from './config.js'
import { doCpuWork, injectLatency, shouldInjectError } from './faults.js'
import type { FlagProvider } from './flags.js'
import { createServiceMetrics } from './metrics.js'
import { itemsRoutes } from './routes/items.js'
import { operationsRoutes } from './routes/operations.js'
import { ordersRoutes } from './routes/orders.js'
import { reportsRoutes } from './routes/reports.js'
import { UnknownReferenceError } from './store/orders.js'
import { bindToUnitOfWork, createUnitOfWork } from '../../src/nplusone/index.js'

export interface AppOptions {
  pool: pg.Pool
  flags: FlagProvider
  version: string
  faults?: FaultSettings
  /** A pino logger; without one the app logs nothing. */
  logger?: FastifyBaseLogger
  /** Make each request one unit of work of opsctl's live query hook (N+1 detection per request). */
  unitsOfWork?: boolean
  /** Source of randomness for fault injection; tests pass a fixed one. */
  random?: () => number
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Probes and introspection: never subject to fault injection. */
    operational?: boolean
  }
  interface FastifyRequest {
    /** The pool, bound to this request's unit of work when the live query hook is on. */
    db: pg.Pool
  }
}

/** Route label for requests no route matched, so random URLs cannot explode the label set. */
const UNMATCHED_ROUTE = 'unmatched'

/**
 * The reference service as a Fastify instance, not listening: the server entry point listens,
 * tests use `inject` or `listen({ port: 0 })`. The pool belongs to the caller, who closes it.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const faults = options.faults ?? NO_FAULTS
  const random = options.random ?? Math.random
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Requests that arrive on an open connection while the server drains are still served (with
    // `Connection: close`) instead of getting 503s; server.close() then reaps idle keep-alive
    // sockets, so a drain cannot be held open by clients that just keep a connection.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Strict bodies: "5" is not an integer and unknown fields are errors, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  })

  // Handlers query through request.db. With the live query hook on, it is the pool bound to the
  // request's unit of work: every statement of the request belongs to it, without the cost of
  // AsyncLocalStorage (a hook on every promise of the process on Node 20).
  app.decorateRequest('db', null as unknown as pg.Pool)
  app.addHook('onRequest', (request, _reply, done) => {
    request.db = options.unitsOfWork
      ? bindToUnitOfWork(options.pool, createUnitOfWork(`${request.method} ${request.routeOptions.url ?? 'unmatched'}`))
      : options.pool
    done()
  })

  let shuttingDown = false
  app.addHook('preClose', async () => {
    shuttingDown = true
  })

  const metrics = createServiceMetrics(options.pool)
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(
      { route: request.routeOptions.url ?? UNMATCHED_ROUTE, method: request.method, status: reply.statusCode },
      reply.elapsedTime / 1000,
    )
  })

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.operational) return
    if (faults.cpuWork > 0) doCpuWork(faults.cpuWork)
    if (faults.latencyMs > 0) await injectLatency(faults.latencyMs)
    if (shouldInjectError(faults, random)) {
      return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'injected fault (FAULT_ERROR_RATE)' })
    }
  })

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-version', options.version)
    // Responses finished during the drain close their connection, so no keep-alive socket
    // outlives the shutdown.
    if (shuttingDown) reply.header('connection', 'close')
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof UnknownReferenceError) {
      return reply.code(422).send({ statusCode: 422, error: STATUS_CODES[422], message: error.message })
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
      return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], message: 'internal error; see the service log' })
    }
    // Validation and parse errors: the message is the reason ("body/items/0/quantity must be >= 1").
    return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], message: error.message })
  })

  app.register(operationsRoutes, { pool: options.pool, metrics, version: options.version, isShuttingDown: () => shuttingDown })
  app.register(ordersRoutes, { flags: options.flags })
  app.register(itemsRoutes)
  app.register(reportsRoutes, { cpuFactor: faults.reportCpuFactor })
  return app
}
