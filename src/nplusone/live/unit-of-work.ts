import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import { trace } from '@opentelemetry/api'
import type { UnitRef } from '../types.js'

/** A unit of work of the application: usually one request. */
export interface UnitOfWork {
  id: string
  /** What a person recognises: `GET /users/:id/orders`, a job name. */
  name: string
  startedAt: number
}

const storage = new AsyncLocalStorage<UnitOfWork>()
/** Unit ids are unique across processes writing to the same query log. */
const PROCESS_TAG = randomBytes(3).toString('hex')
let serial = 0

/**
 * Runs `fn` as one unit of work: every statement issued from it, however deep in awaits,
 * callbacks or Promise.all, is attributed to this unit by the live hook. Framework-agnostic:
 * in Fastify, call it from an onRequest hook around `done()`.
 */
export function runInUnitOfWork<T>(name: string, fn: () => T, options: { id?: string } = {}): T {
  const unit: UnitOfWork = { id: options.id ?? `${PROCESS_TAG}-${(++serial).toString(36)}`, name, startedAt: Date.now() }
  return storage.run(unit, fn)
}

export function currentUnitOfWork(): UnitOfWork | undefined {
  return storage.getStore()
}

/** Renames the current unit, e.g. once the router knows the route pattern. */
export function nameUnitOfWork(name: string): void {
  const unit = storage.getStore()
  if (unit) unit.name = name
}

const INVALID_TRACE = '00000000000000000000000000000000'

/** The unit of the current async context: an explicit unit of work, else the active OpenTelemetry trace. */
export function currentUnitRef(): UnitRef | undefined {
  const unit = storage.getStore()
  if (unit) return { kind: 'request', id: unit.id, label: unit.name }
  const span = trace.getActiveSpan()
  if (!span) return undefined
  const context = span.spanContext()
  if (!context.traceId || context.traceId === INVALID_TRACE) return undefined
  const name = (span as unknown as { name?: unknown }).name
  return { kind: 'trace', id: context.traceId, traceId: context.traceId, ...(typeof name === 'string' ? { label: name } : {}) }
}
