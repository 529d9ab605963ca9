import { badInput } from '../../core/index.js'
import type { ExecutionSink, QueryExecution, SourceSummary, UnitRef } from '../types.js'
import { SkipCounter, displayName, readLineBatches, type InputFile } from './input.js'

/**
 * The query log a service writes with the live hook's JSON-lines sink
 * (`createJsonLinesSink`): one execution per line, in completion order.
 *
 *   {"at":"2024-05-01T12:00:00.123Z","durationMs":0.41,"sql":"SELECT ...","rows":3,
 *    "unit":{"kind":"request","id":"r-17","label":"GET /users/:id/orders"},"session":"4242",
 *    "callSite":"src/store/orders.ts:73:30"}
 */
export const SERVICE_LOG_FORMAT = 'opsctl-jsonl'

export interface ServiceLogRecord {
  at?: string
  durationMs?: number
  sql: string
  rows?: number
  unit?: UnitRef
  session?: string
  callSite?: string
  error?: string
  errorCode?: string
  params?: string[]
}

/** JSON literals of statement texts: a service runs a few hundred texts over and over, and a hash lookup is cheaper than escaping. */
const quotedSql = new Map<string, string>()
const QUOTED_SQL_LIMIT = 5000
/** Longer texts (literal-laden, rarely repeated) are quoted each time rather than kept. */
const QUOTED_SQL_MAX_LENGTH = 1024

/** The live hook hands over one UnitRef object per request (see currentUnitRef). */
const quotedUnits = new WeakMap<UnitRef, string>()
let currentSecond = { second: Number.NaN, prefix: '' }

/** `"2024-05-01T12:00:00.123Z"` with the date and time formatted once per second, not per statement. */
function isoTimestamp(ms: number): string {
  const second = Math.floor(ms / 1000)
  if (second !== currentSecond.second) currentSecond = { second, prefix: new Date(second * 1000).toISOString().slice(0, 20) }
  const millis = ms - second * 1000
  return `"${currentSecond.prefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${Math.floor(millis)}Z"`
}

/**
 * One line of the query log (a ServiceLogRecord and a newline), built by hand because the live
 * hook's sink builds thousands a second: spreading a record object and stringifying it cost
 * ~5 µs per statement, several times this.
 */
export function serviceLogLine(execution: QueryExecution, includeParams: boolean): string {
  let line = '{'
  if (execution.startMs !== undefined && Number.isFinite(execution.startMs)) line += `"at":${isoTimestamp(execution.startMs)},`
  if (execution.durationMs !== undefined) line += `"durationMs":${Number.isFinite(execution.durationMs) ? String(Math.round(execution.durationMs * 1000) / 1000) : 'null'},`
  let sql = quotedSql.get(execution.sql)
  if (sql === undefined) {
    sql = JSON.stringify(execution.sql)
    if (execution.sql.length <= QUOTED_SQL_MAX_LENGTH) {
      if (quotedSql.size >= QUOTED_SQL_LIMIT) quotedSql.clear()
      quotedSql.set(execution.sql, sql)
    }
  }
  line += `"sql":${sql}`
  if (execution.rows !== undefined) line += `,"rows":${Number.isFinite(execution.rows) ? String(execution.rows) : 'null'}`
  if (execution.unit) {
    let unit = quotedUnits.get(execution.unit)
    if (unit === undefined) quotedUnits.set(execution.unit, (unit = JSON.stringify(execution.unit)))
    line += `,"unit":${unit}`
  }
  if (execution.session) line += `,"session":${JSON.stringify(execution.session)}`
  if (execution.callSite) line += `,"callSite":${JSON.stringify(execution.callSite)}`
  if (execution.error !== undefined) line += `,"error":${JSON.stringify(execution.error)}`
  if (execution.errorCode) line += `,"errorCode":${JSON.stringify(execution.errorCode)}`
  if (includeParams && execution.params) line += `,"params":${JSON.stringify(execution.params)}`
  return `${line}}\n`
}

export async function readServiceLog(file: InputFile, sink: ExecutionSink, options: { onProgress?: (bytes: number) => void; stdin?: NodeJS.ReadableStream } = {}): Promise<SourceSummary> {
  const name = displayName(file)
  const skipped = new SkipCounter(name)
  let records = 0
  let statements = 0
  let errors = 0
  const { bytes, lines } = await readLineBatches(
    file,
    ({ lines: batch, firstLine }) => {
      for (let i = 0; i < batch.length; i++) {
        const line = batch[i]!
        if (line.trim() === '') continue
        let value: unknown
        try {
          value = JSON.parse(line)
        } catch {
          skipped.skip(line.includes('\u0000') || line.includes('\uFFFD') ? 'binary data' : 'invalid JSON (a line cut short?)', firstLine + i)
          continue
        }
        const record = value as Partial<ServiceLogRecord> | null
        if (!record || typeof record !== 'object' || typeof record.sql !== 'string') {
          skipped.skip('not an opsctl query record (no "sql")', firstLine + i)
          continue
        }
        records++
        const execution = fromRecord(record as ServiceLogRecord)
        if (execution.error !== undefined) {
          errors++
          sink.failure?.({ message: execution.error, sql: execution.sql, ...(execution.errorCode ? { code: execution.errorCode } : {}) })
        } else {
          statements++
          sink.execution(execution)
        }
      }
    },
    (progress) => options.onProgress?.(progress.bytes),
    options.stdin,
  )
  if (records === 0 && skipped.lines > 0) {
    const example = skipped.examples[0]!
    throw badInput(`${name} is not an opsctl query log (${example.at}: ${example.reason})`, 'Service query logs come from the live hook (createJsonLinesSink); PostgreSQL logs go with --log, traces with --otlp.')
  }
  return { kind: 'service-log', name, format: SERVICE_LOG_FORMAT, bytes, lines, records, statements, errors, skipped: skipped.toJSON(), notes: {} }
}

function fromRecord(record: ServiceLogRecord): QueryExecution {
  const execution: QueryExecution = { sql: record.sql }
  const start = typeof record.at === 'string' ? Date.parse(record.at) : Number.NaN
  if (Number.isFinite(start)) execution.startMs = start
  if (typeof record.durationMs === 'number' && Number.isFinite(record.durationMs)) execution.durationMs = record.durationMs
  if (typeof record.rows === 'number') execution.rows = record.rows
  const unit = record.unit
  if (unit && typeof unit === 'object' && typeof unit.id === 'string') {
    execution.unit = {
      kind: unit.kind === 'trace' || unit.kind === 'session' ? unit.kind : 'request',
      id: unit.id,
      ...(typeof unit.label === 'string' ? { label: unit.label } : {}),
      ...(typeof unit.traceId === 'string' ? { traceId: unit.traceId } : {}),
    }
  }
  if (typeof record.session === 'string') execution.session = record.session
  if (typeof record.callSite === 'string') execution.callSite = record.callSite
  if (typeof record.error === 'string') execution.error = record.error
  if (typeof record.errorCode === 'string') execution.errorCode = record.errorCode
  if (Array.isArray(record.params)) execution.params = record.params.map(String)
  return execution
}
