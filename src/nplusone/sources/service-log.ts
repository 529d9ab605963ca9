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

export async function readServiceLog(
  file: InputFile,
  sink: ExecutionSink,
  options: { onProgress?: (bytes: number) => void; stdin?: NodeJS.ReadableStream } = {},
): Promise<SourceSummary> {
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
          skipped.skip(
            line.includes('\u0000') || line.includes('\uFFFD') ? 'binary data' : 'invalid JSON (a line cut short?)',
            firstLine + i,
          )
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
    throw badInput(
      `${name} is not an opsctl query log (${example.at}: ${example.reason})`,
      'Service query logs come from the live hook (createJsonLinesSink); PostgreSQL logs go with --log, traces with --otlp.',
    )
  }
  return {
    kind: 'service-log',
    name,
    format: SERVICE_LOG_FORMAT,
    bytes,
    lines,
    records,
    statements,
    errors,
    skipped: skipped.toJSON(),
    notes: {},
  }
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
