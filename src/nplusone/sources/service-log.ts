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

/** Statement texts longer than this (literal-laden, rarely repeated) are numbered and encoded each time rather than kept. */
const TEXT_MAX_LENGTH = 1024
const TEXT_LIMIT = 5000
const INITIAL_CAPACITY = 512
const DIGITS = 48 // '0'
/** 9999-12-31T23:59:59.999Z: timestamps up to here have the fixed width the encoder writes. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999

/**
 * Executions as columns, the form in which the live hook's sink hands a batch to its writer
 * thread: numbers in typed arrays (transferred, not copied), strings and units in arrays (a
 * unit shared by a request's statements crosses once, structured clone keeps identity). Fields
 * that are usually absent ride in `extras`: what crosses costs per element, absent or not.
 */
export interface QueryLogBatch {
  count: number
  /** NaN: not known. */
  starts: Float64Array
  durations: Float64Array
  rows: Float64Array
  /** Statement texts by number: `texts` holds those this batch numbers first, from `firstText` on. */
  sqlIds: Int32Array
  texts: string[]
  firstText: number
  /** The numbering starts over with this batch (it had grown past its limit). */
  renumbered: boolean
  units: (UnitRef | undefined)[]
  /** The other fields, for the executions that have any, in order. */
  extras: QueryLogExtras[]
}

export interface QueryLogExtras {
  index: number
  session?: string
  callSite?: string
  error?: string
  errorCode?: string
  params?: readonly string[]
}

/**
 * Collects executions as a QueryLogBatch: on the query path, nothing but copying fields and
 * numbering statement texts. A service runs a few hundred texts over and over, so a number
 * crosses to the writer instead of the text; texts longer than TEXT_MAX_LENGTH (literal-laden,
 * rarely repeated) get a number each time, and the numbering starts over past TEXT_LIMIT.
 */
export class QueryLogBatcher {
  private batch = emptyBatch(INITIAL_CAPACITY)
  private readonly textIds = new Map<string, number>()
  private nextTextId = 0

  constructor(private readonly includeParams: boolean) {}

  get size(): number {
    return this.batch.count
  }

  append(execution: QueryExecution): void {
    const batch = this.batch
    if (batch.count === batch.starts.length) this.grow()
    const i = batch.count++
    batch.starts[i] = execution.startMs ?? Number.NaN
    batch.durations[i] = execution.durationMs ?? Number.NaN
    batch.rows[i] = execution.rows ?? Number.NaN
    batch.sqlIds[i] = this.textId(execution.sql)
    batch.units[i] = execution.unit
    const params = this.includeParams ? execution.params : undefined
    if (execution.session || execution.callSite || execution.error !== undefined || params) {
      const extras: QueryLogExtras = { index: i }
      if (execution.session) extras.session = execution.session
      if (execution.callSite) extras.callSite = execution.callSite
      if (execution.error !== undefined) extras.error = execution.error
      if (execution.errorCode) extras.errorCode = execution.errorCode
      if (params) extras.params = params
      batch.extras.push(extras)
    }
  }

  /** The batch so far; collecting starts over. */
  take(): QueryLogBatch {
    const taken = this.batch
    // The next batch is sized like this one.
    this.batch = emptyBatch(Math.max(INITIAL_CAPACITY, taken.count))
    if (this.nextTextId >= TEXT_LIMIT) {
      this.textIds.clear()
      this.nextTextId = 0
      this.batch.renumbered = true
    }
    this.batch.firstText = this.nextTextId
    return taken
  }

  private textId(sql: string): number {
    const kept = sql.length <= TEXT_MAX_LENGTH
    if (kept) {
      const known = this.textIds.get(sql)
      if (known !== undefined) return known
    }
    const id = this.nextTextId++
    this.batch.texts.push(sql)
    if (kept) this.textIds.set(sql, id)
    return id
  }

  private grow(): void {
    const batch = this.batch
    const capacity = batch.starts.length * 2
    for (const column of ['starts', 'durations', 'rows'] as const) {
      const grown = new Float64Array(capacity)
      grown.set(batch[column])
      batch[column] = grown
    }
    const sqlIds = new Int32Array(capacity)
    sqlIds.set(batch.sqlIds)
    batch.sqlIds = sqlIds
  }
}

function emptyBatch(capacity: number): QueryLogBatch {
  return {
    count: 0,
    starts: new Float64Array(capacity),
    durations: new Float64Array(capacity),
    rows: new Float64Array(capacity),
    sqlIds: new Int32Array(capacity),
    texts: [],
    firstText: 0,
    renumbered: false,
    units: [],
    extras: [],
  }
}

/** The typed arrays of a batch, to transfer rather than copy. */
export function transferablesOf(batch: QueryLogBatch): ArrayBuffer[] {
  return [batch.starts.buffer as ArrayBuffer, batch.durations.buffer as ArrayBuffer, batch.rows.buffer as ArrayBuffer, batch.sqlIds.buffer as ArrayBuffer]
}

/**
 * Encodes batches as query-log lines (a ServiceLogRecord and a newline each), straight into
 * bytes: statement texts and units are encoded once and copied (a service runs a few hundred
 * texts over and over, and a request's statements share its unit), timestamps' date and time
 * once a second, numbers digit by digit.
 */
export class QueryLogEncoder {
  /** Statement texts by number, as JSON literals once encoded. */
  private texts: (string | undefined)[] = []
  private encodedTexts: (Buffer | undefined)[] = []
  private chunk = Buffer.allocUnsafe(64 * 1024)
  private length = 0
  private second = Number.NaN
  private readonly secondPrefix = Buffer.alloc(20) // 2024-05-01T12:00:00.

  /** The batch as JSON lines, in a buffer of the caller's. */
  encode(batch: QueryLogBatch): Buffer {
    if (batch.renumbered) {
      this.texts = []
      this.encodedTexts = []
    }
    for (let k = 0; k < batch.texts.length; k++) {
      this.texts[batch.firstText + k] = batch.texts[k]!
      this.encodedTexts[batch.firstText + k] = undefined
    }
    this.length = 0
    this.chunk = Buffer.allocUnsafe(Math.max(this.chunk.length, batch.count * 256))
    const encodedUnits = new Map<UnitRef, Buffer>()
    let nextExtras = 0
    for (let i = 0; i < batch.count; i++) {
      const extras = batch.extras[nextExtras]?.index === i ? batch.extras[nextExtras++] : undefined
      this.line(batch, i, encodedUnits, extras)
    }
    return this.chunk.subarray(0, this.length)
  }

  private line(batch: QueryLogBatch, i: number, encodedUnits: Map<UnitRef, Buffer>, extras: QueryLogExtras | undefined): void {
    this.ascii('{')
    let first = true
    const start = batch.starts[i]!
    if (start >= 0 && start <= LAST_FOUR_DIGIT_YEAR_MS) {
      this.ascii('"at":"')
      this.timestamp(start)
      this.ascii('Z"')
      first = false
    }
    const duration = batch.durations[i]!
    if (!Number.isNaN(duration)) {
      this.ascii(first ? '"durationMs":' : ',"durationMs":')
      this.milliseconds(duration)
      first = false
    }
    this.ascii(first ? '"sql":' : ',"sql":')
    this.bytesOf(this.textLiteral(batch.sqlIds[i]!))
    const rows = batch.rows[i]!
    if (!Number.isNaN(rows)) {
      this.ascii(',"rows":')
      if (Number.isSafeInteger(rows) && rows >= 0) this.integer(rows)
      else this.text(Number.isFinite(rows) ? String(rows) : 'null')
    }
    const unit = batch.units[i]
    if (unit) {
      let encoded = encodedUnits.get(unit)
      if (encoded === undefined) encodedUnits.set(unit, (encoded = Buffer.from(JSON.stringify(unitRecord(unit)))))
      this.ascii(',"unit":')
      this.bytesOf(encoded)
    }
    if (extras) {
      if (extras.session) this.field(',"session":', extras.session)
      if (extras.callSite) this.field(',"callSite":', extras.callSite)
      if (extras.error !== undefined) this.field(',"error":', extras.error)
      if (extras.errorCode) this.field(',"errorCode":', extras.errorCode)
      if (extras.params) {
        this.ascii(',"params":')
        this.text(JSON.stringify(extras.params))
      }
    }
    this.ascii('}\n')
  }

  private textLiteral(id: number): Buffer {
    let encoded = this.encodedTexts[id]
    if (encoded === undefined) {
      const text = this.texts[id]
      // A number the batcher never sent cannot happen; should it, the line still says so.
      encoded = Buffer.from(JSON.stringify(text ?? `<statement text ${id} missing>`))
      // A long text has a number of its own, used once: kept no longer than that.
      if (text !== undefined && text.length <= TEXT_MAX_LENGTH) this.encodedTexts[id] = encoded
      else this.texts[id] = undefined
    }
    return encoded
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.chunk.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.chunk.length * 2, this.length + bytes))
    this.chunk.copy(grown, 0, 0, this.length)
    this.chunk = grown
  }

  /** A short ASCII constant. */
  private ascii(text: string): void {
    this.reserve(text.length)
    for (let i = 0; i < text.length; i++) this.chunk[this.length++] = text.charCodeAt(i)
  }

  private bytesOf(bytes: Buffer): void {
    this.reserve(bytes.length)
    this.length += bytes.copy(this.chunk, this.length)
  }

  /** Any string, encoded as UTF-8 (at most three bytes per UTF-16 unit). */
  private text(text: string): void {
    this.reserve(text.length * 3)
    this.length += this.chunk.write(text, this.length, 'utf8')
  }

  private field(key: string, value: string): void {
    this.ascii(key)
    this.text(JSON.stringify(value))
  }

  private integer(value: number): void {
    let digits = 1
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++
    this.reserve(digits)
    this.length += digits
    let at = this.length
    do {
      this.chunk[--at] = DIGITS + (value % 10)
      value = Math.floor(value / 10)
    } while (value > 0)
  }

  /** Milliseconds to the microsecond, as JSON: `0.412`, `12`, `3.5`. */
  private milliseconds(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > 1e12) {
      this.text(Number.isFinite(ms) ? String(Math.round(ms * 1000) / 1000) : 'null')
      return
    }
    const micros = Math.round(ms * 1000)
    this.integer(Math.floor(micros / 1000))
    let fraction = micros % 1000
    if (fraction === 0) return
    this.reserve(4)
    this.chunk[this.length++] = 46 // '.'
    for (let divisor = 100; fraction > 0; divisor /= 10) {
      const digit = Math.floor(fraction / divisor)
      this.chunk[this.length++] = DIGITS + digit
      fraction -= digit * divisor
    }
  }

  /** `2024-05-01T12:00:00.123` (the caller adds `Z`), the date and time formatted once per second. */
  private timestamp(ms: number): void {
    const second = Math.floor(ms / 1000)
    if (second !== this.second) {
      this.second = second
      this.secondPrefix.write(new Date(second * 1000).toISOString().slice(0, 20), 0, 'latin1')
    }
    this.bytesOf(this.secondPrefix)
    const millis = Math.floor(ms - second * 1000)
    this.reserve(3)
    this.chunk[this.length++] = DIGITS + Math.floor(millis / 100)
    this.chunk[this.length++] = DIGITS + (Math.floor(millis / 10) % 10)
    this.chunk[this.length++] = DIGITS + (millis % 10)
  }
}

/** A unit as the log records it: its own fields only, in a fixed order. */
function unitRecord(unit: UnitRef): UnitRef {
  return { kind: unit.kind, id: unit.id, ...(unit.label !== undefined ? { label: unit.label } : {}), ...(unit.traceId !== undefined ? { traceId: unit.traceId } : {}) }
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
