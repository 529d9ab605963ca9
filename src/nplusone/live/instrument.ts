import { findSourceMap } from 'node:module'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { QueryExecution, UnitRef } from '../types.js'
import { currentUnitOfWork, currentUnitRef } from './unit-of-work.js'

/** The parts of the `pg` module the hook patches: `import pg from 'pg'` fits. */
export interface PgModuleLike {
  Client: { prototype: object }
  Pool?: { prototype: object }
}

export interface InstrumentPgOptions {
  /** Called once per statement when it completes (or fails). Keep it cheap; it runs on the query path. */
  onExecution(execution: QueryExecution): void
  /**
   * Record the application call site: the first stack frame outside node_modules (default true).
   * Capturing a stack costs ~15 µs, so it is sampled: the first 1,000 statements recorded, then
   * one in 256. N+1 patterns are frequent by nature, so each still gets its call sites; a
   * pattern's call site is the most frequent one seen.
   */
  callSite?: boolean
  /** Keep bound parameter values on executions (default false; they are never printed without --show-params). */
  params?: boolean
  /** Call sites are shown relative to this directory (default: the working directory). */
  root?: string
  /**
   * Share of units of work (requests) recorded, 0 to 1 (default 1: all). A unit is recorded whole
   * or not at all, so N+1 patterns stay intact in the ones recorded; statements outside any unit
   * are always recorded. Counts in `db top` are then those of the recorded units.
   */
  unitSampleRate?: number
}

export interface PgInstrumentation {
  /** Stops recording; the patched methods become pass-throughs (or are restored when still on top). */
  uninstall(): void
}

type QueryFn = (this: unknown, config: unknown, values?: unknown, callback?: unknown) => unknown

interface CallContext {
  unit: UnitRef | undefined
  callSite: string | undefined
}

/** The context of a statement whose unit of work is not sampled: passed through unrecorded. */
const UNRECORDED: CallContext = { unit: undefined, callSite: undefined }

const CALL_SITES_AT_START = 1000
const CALL_SITE_SAMPLE_EVERY = 256

/**
 * Carries the caller's context from Pool#query to the Client#query the pool calls later, from
 * another context: a property of the pool's copy of the values array (or of the query config
 * object), which pg-pool hands on unchanged. A string statement stays a string: as a config
 * object pg would clone it with getOwnPropertyDescriptors on every query.
 */
const CONTEXT = Symbol('opsctl.nplusone.context')

type Carrier = { [CONTEXT]?: CallContext }

/**
 * Records every statement of `pg` Clients and Pools: SQL, duration, rows, the unit of work
 * (bindToUnitOfWork's or runInUnitOfWork's, else the active OpenTelemetry trace), the backend
 * pid and the call site.
 * Pool#query is patched too, because the pool issues the statement from its own callback,
 * where neither the caller's stack nor (under contention) its async context is visible.
 */
export function instrumentPg(pg: PgModuleLike, options: InstrumentPgOptions): PgInstrumentation {
  let active = true
  const root = options.root ?? process.cwd()
  const wantSite = options.callSite ?? true
  const clientProto = pg.Client.prototype as { query: QueryFn }
  const poolProto = pg.Pool?.prototype as { query: QueryFn } | undefined
  const originalClientQuery = clientProto.query
  const originalPoolQuery = poolProto?.query

  let statements = 0
  const sampled = (): boolean => ++statements <= CALL_SITES_AT_START || statements % CALL_SITE_SAMPLE_EVERY === 0
  const unitSampleRate = options.unitSampleRate ?? 1
  if (!(unitSampleRate >= 0 && unitSampleRate <= 1)) throw new RangeError(`unitSampleRate must be from 0 to 1, got ${unitSampleRate}`)
  const capture = (below: (...args: never[]) => unknown, text: unknown): CallContext => {
    if (unitSampleRate < 1) {
      const unit = currentUnitOfWork()
      if (unit && unit.draw >= unitSampleRate) return UNRECORDED
    }
    return { unit: currentUnitRef(), callSite: wantSite && typeof text === 'string' && sampled() ? applicationCallSite(below, root) : undefined }
  }

  const clientQuery: QueryFn = function (this: unknown, config, values, callback) {
    if (!active || config === null || config === undefined) return originalClientQuery.call(this, config, values, callback)
    const carried = typeof config === 'object' ? (config as Carrier)[CONTEXT] : Array.isArray(values) ? (values as Carrier)[CONTEXT] : undefined
    const text = typeof config === 'string' ? config : (config as { text?: unknown }).text
    const context = carried ?? capture(clientQuery, text)
    if (typeof text !== 'string' || context === UNRECORDED) return originalClientQuery.call(this, config, values, callback)
    const parameters = Array.isArray(values) ? values : (config as { values?: unknown }).values
    const startMs = Date.now()
    const started = performance.now()
    const client = this as { processID?: number | null }
    const finish = (error: unknown, result: unknown) => {
      const execution: QueryExecution = { sql: text, startMs, durationMs: performance.now() - started }
      if (context.unit) execution.unit = context.unit
      else if (client.processID) execution.session = String(client.processID)
      if (context.callSite) execution.callSite = context.callSite
      if (options.params && Array.isArray(parameters)) execution.params = parameters.map(describeValue)
      if (error) {
        execution.error = (error as Error).message ?? String(error)
        const code = (error as { code?: unknown }).code
        if (typeof code === 'string') execution.errorCode = code
      } else {
        const rows = rowCount(result)
        if (rows !== undefined) execution.rows = rows
      }
      try {
        options.onExecution(execution)
      } catch {
        // A failing recorder must never fail the application's query.
      }
    }

    const submittable = typeof (config as { submit?: unknown }).submit === 'function'
    if (submittable) {
      // Cursors and streams: no completion callback to wrap reliably; record the statement without timing.
      const result = originalClientQuery.call(this, config, values, callback)
      const execution: QueryExecution = { sql: text, startMs }
      if (context.unit) execution.unit = context.unit
      if (context.callSite) execution.callSite = context.callSite
      options.onExecution(execution)
      return result
    }
    if (typeof values === 'function') {
      return originalClientQuery.call(this, config, (error: unknown, result: unknown) => {
        finish(error, result)
        ;(values as (error: unknown, result: unknown) => void)(error, result)
      })
    }
    if (typeof callback === 'function') {
      return originalClientQuery.call(this, config, values, (error: unknown, result: unknown) => {
        finish(error, result)
        ;(callback as (error: unknown, result: unknown) => void)(error, result)
      })
    }
    const configCallback = typeof config === 'object' ? (config as { callback?: unknown }).callback : undefined
    if (typeof configCallback === 'function') {
      const wrapped = {
        ...(config as object),
        callback: (error: unknown, result: unknown) => {
          finish(error, result)
          ;(configCallback as (error: unknown, result: unknown) => void)(error, result)
        },
      }
      return originalClientQuery.call(this, wrapped, values)
    }
    const promise = originalClientQuery.call(this, config, values) as Promise<unknown> | undefined
    promise?.then(
      (result) => finish(undefined, result),
      (error: unknown) => finish(error, undefined),
    )
    return promise
  }
  clientProto.query = clientQuery

  let poolQuery: QueryFn | undefined
  if (poolProto && originalPoolQuery) {
    poolQuery = function (this: unknown, config, values, callback) {
      if (!active || typeof config === 'function' || config === null || config === undefined) return originalPoolQuery.call(this, config, values, callback)
      if (typeof config === 'object' && typeof (config as { submit?: unknown }).submit === 'function') return originalPoolQuery.call(this, config, values, callback)
      const context = capture(poolQuery!, typeof config === 'string' ? config : (config as { text?: unknown }).text)
      if (typeof config === 'object') {
        // A copy: the same config object may be in flight for several requests at once.
        const carrier: Carrier = { ...(config as object), [CONTEXT]: context }
        return originalPoolQuery.call(this, carrier, values, callback)
      }
      // A string statement: its own copy of the values (an empty list means none) carries the context.
      if (typeof values === 'function') [values, callback] = [undefined, values]
      if (values !== undefined && !Array.isArray(values)) return originalPoolQuery.call(this, config, values, callback) // pg reports it
      const carrier: unknown[] & Carrier = values?.slice() ?? []
      carrier[CONTEXT] = context
      return originalPoolQuery.call(this, config, carrier, callback)
    }
    poolProto.query = poolQuery
  }

  return {
    uninstall() {
      active = false
      if (clientProto.query === clientQuery) clientProto.query = originalClientQuery
      if (poolProto && poolQuery && poolProto.query === poolQuery) poolProto.query = originalPoolQuery!
    },
  }
}

function rowCount(result: unknown): number | undefined {
  if (Array.isArray(result)) return result.reduce<number>((sum, part) => sum + (rowCount(part) ?? 0), 0)
  const value = result as { rowCount?: number | null; rows?: unknown[] } | undefined
  if (typeof value?.rowCount === 'number') return value.rowCount
  return Array.isArray(value?.rows) ? value.rows.length : undefined
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`
  if (value instanceof Date) return value.toISOString()
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value)
  return text.length > 200 ? `${text.slice(0, 199)}…` : text
}

const sourceMapped = new Map<string, ReturnType<typeof findSourceMap> | null>()

/**
 * The first stack frame outside node_modules and node internals, as `path:line:column (function)`,
 * relative to `root`. Structured frames (no stack string formatting) keep this to about a
 * microsecond; positions are mapped through source maps when Node has them.
 */
export function applicationCallSite(below: (...args: never[]) => unknown, root: string): string | undefined {
  const previousPrepare = Error.prepareStackTrace
  const previousLimit = Error.stackTraceLimit
  let frames: NodeJS.CallSite[] | undefined
  try {
    Error.prepareStackTrace = (_error, stack) => stack
    Error.stackTraceLimit = 16
    const holder: { stack?: unknown } = {}
    Error.captureStackTrace(holder, below)
    frames = holder.stack as NodeJS.CallSite[] | undefined
  } finally {
    Error.prepareStackTrace = previousPrepare
    Error.stackTraceLimit = previousLimit
  }
  for (const frame of frames ?? []) {
    let file = frame.getFileName() ?? frame.getScriptNameOrSourceURL?.()
    if (!file || file.startsWith('node:') || file.includes('/node_modules/') || file.includes('\\node_modules\\') || !/[/\\]/.test(file)) continue
    let line = frame.getLineNumber() ?? 0
    let column = frame.getColumnNumber() ?? 0
    let map = sourceMapped.get(file)
    if (map === undefined) {
      try {
        map = findSourceMap(file) ?? null
      } catch {
        map = null
      }
      sourceMapped.set(file, map)
    }
    if (map) {
      const entry = map.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number }
      if (entry?.originalSource && entry.originalLine !== undefined) {
        file = entry.originalSource
        line = entry.originalLine + 1
        column = (entry.originalColumn ?? 0) + 1
      }
    }
    if (file.startsWith('file://')) file = fileURLToPath(file)
    const name = frame.getFunctionName() ?? frame.getMethodName()
    return `${relative(root, file) || file}:${line}:${column}${name ? ` (${name})` : ''}`
  }
  return undefined
}
