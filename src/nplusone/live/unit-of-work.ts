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
  /** Uniform in [0, 1): decides once for the whole unit whether a hook that samples units records it. */
  draw: number
}

const storage = new AsyncLocalStorage<UnitOfWork>()
/** Unit ids are unique across processes writing to the same query log. */
const PROCESS_TAG = randomBytes(3).toString('hex')
let serial = 0

/**
 * Runs `fn` as one unit of work: every statement issued from it, however deep in awaits,
 * callbacks or Promise.all, is attributed to this unit by the live hook. Framework-agnostic:
 * in Fastify, call it from an onRequest hook around `done()`. It rests on AsyncLocalStorage,
 * which on Node 20 costs every promise of the process; see bindToUnitOfWork for the cheap way.
 */
export function runInUnitOfWork<T>(name: string, fn: () => T, options: { id?: string; draw?: number } = {}): T {
  return storage.run(createUnitOfWork(name, options), fn)
}

/** A new unit of work, for `bindToUnitOfWork`; runInUnitOfWork makes its own. */
export function createUnitOfWork(name: string, options: { id?: string; draw?: number } = {}): UnitOfWork {
  return new Unit(options.id ?? `${PROCESS_TAG}-${(++serial).toString(36)}`, name, Date.now(), options.draw ?? Math.random())
}

/** The units createUnitOfWork makes carry their UnitRef, so that a statement finds it without a lookup. */
class Unit implements UnitOfWork {
  private ref: UnitRef | undefined

  constructor(
    readonly id: string,
    private unitName: string,
    readonly startedAt: number,
    readonly draw: number,
  ) {}

  get name(): string {
    return this.unitName
  }

  set name(name: string) {
    this.unitName = name
    this.ref = undefined
  }

  /** One object per unit (until renamed): every statement of a request shares it, and its encoding. */
  toRef(): UnitRef {
    return (this.ref ??= { kind: 'request', id: this.id, label: this.unitName })
  }
}

/** The unit a bound pool or client is issuing a statement for, during that synchronous call only. */
let explicitUnit: UnitOfWork | undefined

/**
 * A view of a `pg` Pool (or Client) whose statements belong to `unit`, without AsyncLocalStorage.
 * On Node 20, AsyncLocalStorage runs a hook for every promise the whole process creates, which
 * costs a promise-heavy service more than the query hook itself; when the request is at hand
 * (a per-request `request.db`, say), passing a bound pool down is the cheap way to attribute its
 * statements. Clients from the bound pool's connect() are bound too, so transactions keep the unit.
 */
export function bindToUnitOfWork<T extends object>(db: T, unit: UnitOfWork): T {
  let query: ((...args: unknown[]) => unknown) | undefined
  let connect: ((...args: unknown[]) => unknown) | undefined
  return new Proxy(db, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      if (property === 'query') {
        // Three fixed parameters (pg's query takes at most three): no rest array per statement.
        query ??= (config: unknown, values?: unknown, callback?: unknown) => {
          const outer = explicitUnit
          explicitUnit = unit
          try {
            return value.call(target, config, values, callback)
          } finally {
            explicitUnit = outer
          }
        }
        return query
      }
      if (property === 'connect') {
        connect ??= (...args: unknown[]) => {
          if (typeof args[0] === 'function') {
            const callback = args[0] as (error: unknown, client: object | undefined, release: unknown) => void
            return value.call(target, (error: unknown, client: object | undefined, release: unknown) =>
              callback(error, client && bindToUnitOfWork(client, unit), release),
            )
          }
          return (value.apply(target, args) as Promise<object>).then((client) => bindToUnitOfWork(client, unit))
        }
        return connect
      }
      return value.bind(target)
    },
  })
}

/** The unit of the statement being issued: a bound pool's during its call, else the async context's. */
export function currentUnitOfWork(): UnitOfWork | undefined {
  return explicitUnit ?? storage.getStore()
}

/** Renames the current unit, e.g. once the router knows the route pattern. */
export function nameUnitOfWork(name: string): void {
  const unit = currentUnitOfWork()
  if (!unit) return
  unit.name = name
  refs.delete(unit)
}

/** One UnitRef per unit made elsewhere (a plain object), so that every statement of a request shares it. */
const refs = new WeakMap<UnitOfWork, UnitRef>()

const INVALID_TRACE = '00000000000000000000000000000000'

/** The unit of the current statement: a bound pool's, the async context's, else the active OpenTelemetry trace. */
export function currentUnitRef(): UnitRef | undefined {
  const unit = currentUnitOfWork()
  if (unit instanceof Unit) return unit.toRef()
  if (unit) {
    let ref = refs.get(unit)
    if (!ref) refs.set(unit, (ref = { kind: 'request', id: unit.id, label: unit.name }))
    return ref
  }
  const span = trace.getActiveSpan()
  if (!span) return undefined
  const context = span.spanContext()
  if (!context.traceId || context.traceId === INVALID_TRACE) return undefined
  const name = (span as unknown as { name?: unknown }).name
  return { kind: 'trace', id: context.traceId, traceId: context.traceId, ...(typeof name === 'string' ? { label: name } : {}) }
}
