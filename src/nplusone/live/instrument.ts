import { findSourceMap } from 'node:module'
import { performance } from 'node:perf_hooks'
import { dirname, relative, sep } from 'node:path'
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
type ConnectFn = (this: unknown, callback?: unknown) => unknown
type Callback = (error: unknown, result: unknown) => void

/** Who issued a statement: its unit of work and, when sampled, its call site. */
class CallContext {
  constructor(
    readonly unit: UnitRef | undefined,
    readonly callSite: string | undefined,
  ) {}
}

/** The context of a statement whose unit of work is not sampled: passed through unrecorded. */
const UNRECORDED = new CallContext(undefined, undefined)

const CALL_SITES_AT_START = 1000
const CALL_SITE_SAMPLE_EVERY = 256

/** The client a statement ran on: its backend pid names the session when there is no unit. */
interface PgClientLike {
  processID?: number | null
}

/**
 * Records every statement of `pg` Clients and Pools: SQL, duration, rows, the unit of work
 * (bindToUnitOfWork's or runInUnitOfWork's, else the active OpenTelemetry trace), the backend
 * pid and the call site.
 *
 * Pool#query is patched too, because the pool issues the statement from its own callback, where
 * neither the caller's stack nor (under contention) its async context is visible. The caller's
 * context travels with the pool's connect callback: Pool#query calls this.connect synchronously,
 * the patched connect wraps the callback, and pg-pool's callback calls Client#query synchronously
 * inside it. That costs one closure per statement, where copying the values array to carry the
 * context cost a copy plus a property store that made pg's argument handling megamorphic.
 */
export function instrumentPg(pg: PgModuleLike, options: InstrumentPgOptions): PgInstrumentation {
  let active = true
  const root = options.root ?? process.cwd()
  const wantSite = options.callSite ?? true
  const keepParams = options.params ?? false
  const onExecution = options.onExecution
  const clientProto = pg.Client.prototype as { query: QueryFn }
  const poolProto = pg.Pool?.prototype as { query: QueryFn; connect: ConnectFn } | undefined
  const originalClientQuery = clientProto.query
  const originalPoolQuery = poolProto?.query
  const originalPoolConnect = poolProto?.connect

  let statements = 0
  const sampled = (): boolean => ++statements <= CALL_SITES_AT_START || statements % CALL_SITE_SAMPLE_EVERY === 0
  const unitSampleRate = options.unitSampleRate ?? 1
  if (!(unitSampleRate >= 0 && unitSampleRate <= 1)) throw new RangeError(`unitSampleRate must be from 0 to 1, got ${unitSampleRate}`)
  const capture = (below: (...args: never[]) => unknown, text: unknown): CallContext => {
    if (unitSampleRate < 1) {
      const unit = currentUnitOfWork()
      if (unit && unit.draw >= unitSampleRate) return UNRECORDED
    }
    return new CallContext(
      currentUnitRef(),
      wantSite && typeof text === 'string' && sampled() ? applicationCallSite(below, root) : undefined,
    )
  }

  // Epoch milliseconds from the monotonic clock, re-anchored to the wall clock once a second: one
  // clock read per statement start instead of two.
  let wallOffset = Date.now() - performance.now()
  let anchoredAt = performance.now()
  const wallClock = (monotonic: number): number => {
    if (monotonic - anchoredAt > 1000) {
      anchoredAt = monotonic
      wallOffset = Date.now() - monotonic
    }
    return wallOffset + monotonic
  }

  /** Set by Pool#query for the connect it calls synchronously. */
  let pendingForConnect: CallContext | undefined
  /** Set while pg-pool's connect callback runs, for the Client#query it issues synchronously. */
  let handedToClient: CallContext | undefined

  const record = (
    sql: string,
    context: CallContext,
    client: PgClientLike,
    parameters: unknown,
    startMs: number,
    started: number,
    error: unknown,
    result: unknown,
  ): void => {
    const execution: QueryExecution = { sql, startMs, durationMs: performance.now() - started }
    if (context.unit) execution.unit = context.unit
    else if (client.processID) execution.session = String(client.processID)
    if (context.callSite) execution.callSite = context.callSite
    if (keepParams && Array.isArray(parameters)) execution.params = parameters.map(describeValue)
    if (error) {
      execution.error = (error as Error).message ?? String(error)
      const code = (error as { code?: unknown }).code
      if (typeof code === 'string') execution.errorCode = code
    } else {
      const rows = rowCount(result)
      if (rows !== undefined) execution.rows = rows
    }
    try {
      onExecution(execution)
    } catch {
      // A failing recorder must never fail the application's query.
    }
  }

  /** The application's callback, after the statement is recorded. */
  const recordThen =
    (
      done: Callback,
      sql: string,
      context: CallContext,
      client: PgClientLike,
      parameters: unknown,
      startMs: number,
      started: number,
    ): Callback =>
    (error, result) => {
      record(sql, context, client, parameters, startMs, started, error, result)
      done(error, result)
    }

  const clientQuery: QueryFn = function (this: unknown, config, values, callback) {
    if (!active || config === null || config === undefined) return originalClientQuery.call(this, config, values, callback)
    const text = typeof config === 'string' ? config : (config as { text?: unknown }).text
    const context = handedToClient ?? capture(clientQuery, text)
    handedToClient = undefined
    if (typeof text !== 'string' || context === UNRECORDED) return originalClientQuery.call(this, config, values, callback)
    const started = performance.now()
    const startMs = wallClock(started)

    if (typeof (config as { submit?: unknown }).submit === 'function') {
      // Cursors and streams: no completion callback to wrap reliably; record the statement without timing.
      const result = originalClientQuery.call(this, config, values, callback)
      const execution: QueryExecution = { sql: text, startMs }
      if (context.unit) execution.unit = context.unit
      if (context.callSite) execution.callSite = context.callSite
      onExecution(execution)
      return result
    }
    // One closure per statement, over what its completion needs: the query path's only allocation
    // besides the execution itself.
    const client = this as PgClientLike
    if (typeof values === 'function')
      return originalClientQuery.call(
        this,
        config,
        recordThen(values as Callback, text, context, client, (config as { values?: unknown }).values, startMs, started),
      )
    const parameters = Array.isArray(values) ? values : (config as { values?: unknown }).values
    if (typeof callback === 'function')
      return originalClientQuery.call(
        this,
        config,
        values,
        recordThen(callback as Callback, text, context, client, parameters, startMs, started),
      )
    const configCallback = typeof config === 'object' ? (config as { callback?: unknown }).callback : undefined
    if (typeof configCallback === 'function') {
      const wrapped = {
        ...(config as object),
        callback: recordThen(configCallback as Callback, text, context, client, parameters, startMs, started),
      }
      return originalClientQuery.call(this, wrapped, values)
    }
    const promise = originalClientQuery.call(this, config, values) as Promise<unknown> | undefined
    promise?.then(
      (result) => record(text, context, client, parameters, startMs, started, undefined, result),
      (error: unknown) => record(text, context, client, parameters, startMs, started, error, undefined),
    )
    return promise
  }
  clientProto.query = clientQuery

  let poolQuery: QueryFn | undefined
  let poolConnect: ConnectFn | undefined
  if (poolProto && originalPoolQuery && originalPoolConnect) {
    poolQuery = function (this: unknown, config, values, callback) {
      if (!active || typeof config === 'function' || config === null || config === undefined)
        return originalPoolQuery.call(this, config, values, callback)
      if (typeof config === 'object' && typeof (config as { submit?: unknown }).submit === 'function')
        return originalPoolQuery.call(this, config, values, callback)
      const outer = pendingForConnect
      pendingForConnect = capture(poolQuery!, typeof config === 'string' ? config : (config as { text?: unknown }).text)
      try {
        return originalPoolQuery.call(this, config, values, callback)
      } finally {
        pendingForConnect = outer
      }
    }
    poolConnect = function (this: unknown, callback) {
      const context = pendingForConnect
      // The application's own pool.connect(), or pg-pool without a callback: nothing to hand on.
      if (context === undefined || typeof callback !== 'function') return originalPoolConnect.call(this, callback)
      pendingForConnect = undefined
      return originalPoolConnect.call(this, (error: unknown, client: unknown, release: unknown) => {
        const outer = handedToClient
        // On a failed connect pg-pool hands the error to the caller's code, which issues no statement of ours.
        handedToClient = error ? outer : context
        try {
          ;(callback as (error: unknown, client: unknown, release: unknown) => void)(error, client, release)
        } finally {
          handedToClient = outer
        }
      })
    }
    poolProto.query = poolQuery
    poolProto.connect = poolConnect
  }

  return {
    uninstall() {
      active = false
      if (clientProto.query === clientQuery) clientProto.query = originalClientQuery
      if (poolProto && poolQuery && poolProto.query === poolQuery) poolProto.query = originalPoolQuery!
      if (poolProto && poolConnect && poolProto.connect === poolConnect) poolProto.connect = originalPoolConnect!
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
/** Script names (file URLs or paths) as shown, relative to a root: a stack holds the same few over and over. */
const displayPaths = new Map<string, string>()
const DISPLAY_PATHS_LIMIT = 10_000

function displayPath(root: string, file: string): string {
  const key = `${root}\0${file}`
  let shown = displayPaths.get(key)
  if (shown === undefined) {
    const path = file.startsWith('file://') ? fileURLToPath(file) : file
    shown = relative(root, path) || path
    if (displayPaths.size >= DISPLAY_PATHS_LIMIT) displayPaths.clear()
    displayPaths.set(key, shown)
  }
  return shown
}

/**
 * The hook's own frames (a bound pool's query, above all) are never the call site. When opsctl is
 * installed they are under node_modules anyway; in this repository (the reference service) not.
 */
const HOOK_URL = new URL('.', import.meta.url).href
const HOOK_DIRECTORY = dirname(fileURLToPath(import.meta.url)) + sep

/**
 * The first stack frame outside node_modules, node internals and the hook itself, as `path:line:column (function)`,
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
    if (!file || file.startsWith('node:') || file.includes('/node_modules/') || file.includes('\\node_modules\\') || !/[/\\]/.test(file))
      continue
    if (file.startsWith(HOOK_URL) || file.startsWith(HOOK_DIRECTORY)) continue
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
    const name = frame.getFunctionName() ?? frame.getMethodName()
    return `${displayPath(root, file)}:${line}:${column}${name ? ` (${name})` : ''}`
  }
  return undefined
}
