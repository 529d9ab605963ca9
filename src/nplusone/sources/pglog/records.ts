// What the three log formats share: the record every parser produces, the base parser (records,
// skips, timestamps), and the interpreter that turns records into executions.
import type { ExecutionSink, QueryExecution } from '../../types.js'
import type { SkipCounter, LineBatch } from '../input.js'
import { TimestampParser } from './prefix.js'

/** One log entry, whatever the format: a primary line with its DETAIL / STATEMENT companions. */
export interface LogRecord {
  atMs: number | undefined
  session: string
  /** The server process, when the log names it (%p, csvlog, jsonlog). */
  pid?: number
  origin: string | undefined
  severity: string
  message: string
  detail?: string
  statement?: string
  sqlstate?: string
  line: number
}

const ERROR_SEVERITIES = new Set(['ERROR', 'FATAL', 'PANIC'])
/** A statement logged by log_statement waits this long (log time) for its "duration:" line. */
const PENDING_DURATION_WINDOW_MS = 10_000

/**
 * Turns log records into executions: log_min_duration_statement ("duration: ... statement:"),
 * log_statement ("statement:", "execute <name>:") with a later bare "duration:" line,
 * the extended protocol's parse/bind/execute steps (only execute counts) and their
 * "parameters:" details, errors with their STATEMENT, and disconnections.
 */
export class RecordInterpreter {
  /** A statement logged without duration, per session, waiting for log_duration's line. */
  private readonly pending = new Map<string, { execution: QueryExecution; atMs: number | undefined }>()
  statements = 0
  errors = 0
  readonly notes: Record<string, number> = {}
  private lastSweepAt = 0

  constructor(
    private readonly sink: ExecutionSink,
    private readonly keepParams: boolean,
  ) {}

  record(record: LogRecord): void {
    const { severity, message } = record
    if (severity === 'LOG') {
      this.logMessage(record, message)
    } else if (ERROR_SEVERITIES.has(severity)) {
      this.flushSession(record.session)
      this.errors++
      this.sink.failure?.({
        message,
        ...(record.sqlstate ? { code: record.sqlstate } : {}),
        ...(record.statement ? { sql: record.statement } : {}),
        session: record.session,
        ...(record.atMs !== undefined ? { atMs: record.atMs } : {}),
      })
      if (severity === 'FATAL') this.endSession(record.session)
    } else {
      this.note(`${severity.toLowerCase()} messages`)
    }
    if (record.atMs !== undefined && record.atMs - this.lastSweepAt > 1000) this.sweepPending(record.atMs)
  }

  private logMessage(record: LogRecord, message: string): void {
    let rest = message
    let durationMs: number | undefined
    if (message.startsWith('duration: ')) {
      const unitAt = message.indexOf(' ms', 10)
      durationMs = unitAt === -1 ? Number.NaN : Number(message.slice(10, unitAt))
      if (!Number.isFinite(durationMs)) {
        this.note('unreadable duration lines')
        return
      }
      rest = message.slice(unitAt + 3)
      if (rest.length === 0) {
        // log_duration (or log_min_duration_statement under log_statement): the time of the statement logged before.
        const waiting = this.pending.get(record.session)
        if (waiting) {
          waiting.execution.durationMs = durationMs
          if (record.atMs !== undefined) waiting.execution.endMs = record.atMs
          this.flushSession(record.session)
        } else this.note('durations without a statement')
        return
      }
      if (!rest.startsWith('  ')) {
        this.note('unreadable duration lines')
        return
      }
      rest = rest.slice(2)
    }

    if (rest.startsWith('statement: ')) {
      this.execution(record, rest.slice(11), durationMs)
    } else if (rest.startsWith('execute ')) {
      const colon = rest.indexOf(': ', 8)
      if (colon === -1) return this.note('unreadable execute lines')
      if (rest.startsWith('execute fetch from ')) return this.note('portal fetches')
      this.execution(record, rest.slice(colon + 2), durationMs)
    } else if (rest.startsWith('parse ') || rest.startsWith('bind ')) {
      this.note('parse and bind steps')
    } else if (rest.startsWith('disconnection: ')) {
      this.endSession(record.session)
      this.note('disconnections')
    } else if (rest.startsWith('connection authorized: ') || rest.startsWith('connection received: ')) {
      this.endSession(record.session)
      this.note('connections')
    } else {
      this.note('other messages')
    }
  }

  private execution(record: LogRecord, sql: string, durationMs: number | undefined): void {
    this.flushSession(record.session)
    this.statements++
    const execution: QueryExecution = { sql, session: record.session }
    if (record.pid !== undefined) execution.pid = record.pid
    if (record.origin) execution.origin = record.origin
    if (durationMs !== undefined) {
      execution.durationMs = durationMs
      // log_min_duration_statement logs when the statement ends.
      if (record.atMs !== undefined) execution.endMs = record.atMs
    } else if (record.atMs !== undefined) {
      // log_statement logs when it starts.
      execution.startMs = record.atMs
    }
    if (this.keepParams && record.detail?.startsWith('parameters: ')) execution.params = parseParameters(record.detail)
    if (durationMs === undefined) this.pending.set(record.session, { execution, atMs: record.atMs })
    else this.sink.execution(execution)
  }

  private flushSession(session: string): void {
    const waiting = this.pending.get(session)
    if (!waiting) return
    this.pending.delete(session)
    this.sink.execution(waiting.execution)
  }

  private endSession(session: string): void {
    this.flushSession(session)
    this.sink.endSession?.(session)
  }

  private sweepPending(now: number): void {
    this.lastSweepAt = now
    for (const [session, waiting] of this.pending) {
      if (waiting.atMs === undefined || now - waiting.atMs > PENDING_DURATION_WINDOW_MS) this.flushSession(session)
    }
  }

  finish(): void {
    for (const session of [...this.pending.keys()]) this.flushSession(session)
  }

  private note(what: string): void {
    this.notes[what] = (this.notes[what] ?? 0) + 1
  }
}

/** `$1 = '5', $2 = NULL, $3 = 'it''s'` -> ["'5'", 'NULL', "'it''s'"]. */
export function parseParameters(detail: string): string[] {
  const values: string[] = []
  const pattern = /\$\d+ = (NULL|'(?:[^']|'')*'?)/g
  for (const match of detail.slice(12).matchAll(pattern)) values.push(match[1]!)
  return values
}

/** What every format's parser shares: where records go, what it skipped, and one timestamp cache per file. */
export abstract class RecordParser {
  records = 0
  protected readonly times = new TimestampParser()

  constructor(
    private readonly interpreter: RecordInterpreter,
    protected readonly skipped: SkipCounter,
  ) {}

  /** Zones the log named that we could not resolve; reported as notes so the UTC fallback is visible. */
  get unknownZones(): Set<string> {
    return this.times.unknownZones
  }

  abstract batch(batch: LineBatch): void

  /** Only formats that hold a record across lines (stderr, multi-line csvlog) have anything left to flush. */
  finish(): void {}

  protected emit(record: LogRecord): void {
    this.records++
    this.interpreter.record(record)
  }

  /** A line this format cannot read: NULs or U+FFFD mean binary data, which deserves its own reason. */
  protected skipUnreadable(text: string, reason: string, line: number): void {
    this.skipped.skip(text.includes('\u0000') || text.includes('\uFFFD') ? 'binary data' : reason, line)
  }
}

export function originOf(user: string | undefined, database: string | undefined, application: string | undefined): string | undefined {
  const who = user || database ? `${user ?? ''}@${database ?? ''}` : undefined
  if (who && application) return `${who} (${application})`
  return who ?? (application || undefined)
}
