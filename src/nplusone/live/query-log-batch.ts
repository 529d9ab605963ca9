// The live hook's query log, on the service's thread: executions copied into column batches that
// the writer thread (query-log-writer.ts) encodes. This is the query path: copy, never encode.
import type { QueryExecution, UnitRef } from '../types.js'

/** Statement texts longer than this (literal-laden, rarely repeated) are numbered and encoded each time rather than kept. */
export const TEXT_MAX_LENGTH = 1024
const TEXT_LIMIT = 5000
const INITIAL_CAPACITY = 512

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
  return [
    batch.starts.buffer as ArrayBuffer,
    batch.durations.buffer as ArrayBuffer,
    batch.rows.buffer as ArrayBuffer,
    batch.sqlIds.buffer as ArrayBuffer,
  ]
}
