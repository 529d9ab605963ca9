import { badInput } from '../../core/index.js'
import type { ExecutionSink, QueryExecution, SourceSummary } from '../types.js'
import { detach } from '../lexical.js'
import { SkipCounter, displayName, readLineBatches, type InputFile, type LineBatch } from './input.js'
import { DEBIAN_PREFIX, TimestampParser, compilePrefix, type CompiledPrefix } from './pglog-prefix.js'

export type LogFormat = 'stderr' | 'csvlog' | 'jsonlog'

export interface PgLogOptions {
  /** log_line_prefix of stderr logs (default Debian's '%m [%p] %q%u@%d '). */
  prefix?: string
  /** Force a format instead of sniffing it from the first lines. */
  format?: LogFormat | 'auto'
  /** Keep bound parameter values (DETAIL: parameters: ...) on executions. */
  params?: boolean
  onProgress?: (bytes: number) => void
  stdin?: NodeJS.ReadableStream
}

/** One log entry, whatever the format: a primary line with its DETAIL / STATEMENT companions. */
interface LogRecord {
  atMs: number | undefined
  session: string
  origin: string | undefined
  severity: string
  message: string
  detail?: string
  statement?: string
  sqlstate?: string
  line: number
}

const SECONDARY = new Set(['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT', 'QUERY', 'LOCATION'])
const ERROR_SEVERITIES = new Set(['ERROR', 'FATAL', 'PANIC'])
/** A statement logged by log_statement waits this long (log time) for its "duration:" line. */
const PENDING_DURATION_WINDOW_MS = 10_000

/**
 * Turns log records into executions: log_min_duration_statement ("duration: ... statement:"),
 * log_statement ("statement:", "execute <name>:") with a later bare "duration:" line,
 * the extended protocol's parse/bind/execute steps (only execute counts) and their
 * "parameters:" details, errors with their STATEMENT, and disconnections.
 */
class RecordInterpreter {
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
abstract class RecordParser {
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

/** stderr logs: primary lines matched by the prefix; tab-indented continuation lines; DETAIL and friends attach. */
class StderrParser extends RecordParser {
  private current: LogRecord | undefined
  /** Which part a tab-indented continuation line extends. */
  private currentPart: 'message' | 'detail' | 'statement' | 'other' = 'message'
  private readonly prefix: CompiledPrefix
  private readonly pidGroup: number | undefined
  private readonly sessionGroup: number | undefined

  constructor(prefix: string, interpreter: RecordInterpreter, skipped: SkipCounter) {
    super(interpreter, skipped)
    this.prefix = compilePrefix(prefix)
    this.pidGroup = this.prefix.groups.pid
    this.sessionGroup = this.prefix.groups.session
    if (this.pidGroup === undefined && this.sessionGroup === undefined) {
      throw badInput(`log_line_prefix "${prefix}" has neither %p nor %c`, 'Statements are grouped by session: log_line_prefix must contain %p (process id) or %c (session id).')
    }
  }

  batch({ lines, firstLine }: LineBatch): void {
    const pattern = this.prefix.pattern
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      if (line.charCodeAt(0) === 9) {
        if (this.current) this.extend(line.slice(1))
        else this.skipped.skip('continuation line without a record', firstLine + i)
        continue
      }
      const match = pattern.exec(line)
      if (match === null) {
        if (line.length === 0) continue
        this.skipUnreadable(line, 'no prefix match', firstLine + i)
        continue
      }
      this.primary(match, firstLine + i)
    }
  }

  private primary(match: RegExpExecArray, line: number): void {
    const { groups } = this.prefix
    const severity = match[this.prefix.severityGroup]!
    const message = match[this.prefix.messageGroup]!
    const session = this.sessionOf((this.sessionGroup !== undefined ? match[this.sessionGroup] : undefined) ?? (this.pidGroup !== undefined ? match[this.pidGroup] : undefined) ?? '')
    if (SECONDARY.has(severity)) {
      const current = this.current
      if (current && current.session === session) {
        if (severity === 'DETAIL') {
          current.detail = message
          this.currentPart = 'detail'
        } else if (severity === 'STATEMENT') {
          current.statement = message
          this.currentPart = 'statement'
        } else this.currentPart = 'other'
      } else {
        this.skipped.skip(`${severity} line of another session's record`, line)
      }
      return
    }
    this.flush()
    const timeText = groups.time !== undefined ? match[groups.time] : undefined
    const epochText = groups.epoch !== undefined ? match[groups.epoch] : undefined
    const atMs = timeText !== undefined ? this.times.parse(timeText) : epochText !== undefined ? Number(epochText) * 1000 : undefined
    const user = groups.user !== undefined ? match[groups.user] : undefined
    const database = groups.database !== undefined ? match[groups.database] : undefined
    const application = groups.application !== undefined ? match[groups.application] : undefined
    const record: LogRecord = { atMs, session, origin: this.origin(user, database, application), severity, message, line }
    if (groups.sqlstate !== undefined && match[groups.sqlstate]) record.sqlstate = match[groups.sqlstate]
    this.current = record
    this.currentPart = 'message'
  }

  private lastSession = ''

  /** Session ids are kept (as unit keys): copy them, once per change of session. */
  private sessionOf(text: string): string {
    if (text !== this.lastSession) this.lastSession = detach(text)
    return this.lastSession
  }

  private lastOriginKey = ''
  private lastOrigin: string | undefined

  /** The same user@database on line after line: build the string once. */
  private origin(user: string | undefined, database: string | undefined, application: string | undefined): string | undefined {
    const key = `${user}\u0000${database}\u0000${application}`
    if (key !== this.lastOriginKey) {
      this.lastOriginKey = detach(key)
      const origin = originOf(user, database, application)
      this.lastOrigin = origin === undefined ? undefined : detach(origin)
    }
    return this.lastOrigin
  }

  private extend(text: string): void {
    const current = this.current!
    if (this.currentPart === 'message') current.message += `\n${text}`
    else if (this.currentPart === 'detail') current.detail += `\n${text}`
    else if (this.currentPart === 'statement') current.statement += `\n${text}`
  }

  private flush(): void {
    if (!this.current) return
    const record = this.current
    this.current = undefined
    this.emit(record)
  }

  override finish(): void {
    this.flush()
  }
}

function originOf(user: string | undefined, database: string | undefined, application: string | undefined): string | undefined {
  const who = user || database ? `${user ?? ''}@${database ?? ''}` : undefined
  if (who && application) return `${who} (${application})`
  return who ?? (application || undefined)
}

/** csvlog: one record per CSV row; quoted fields may span lines. PostgreSQL 13-17 column sets. */
class CsvParser extends RecordParser {
  private pendingText = ''
  private pendingLines = 0
  private pendingStart = 0
  private pendingQuotes = 0

  batch({ lines, firstLine }: LineBatch): void {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      const quotes = countQuotes(line)
      if (this.pendingLines === 0) {
        if (line.length === 0) continue
        if ((quotes & 1) === 0) {
          this.row(line, firstLine + i)
          continue
        }
        this.pendingText = line
        this.pendingLines = 1
        this.pendingStart = firstLine + i
        this.pendingQuotes = quotes
        continue
      }
      this.pendingText += `\n${line}`
      this.pendingLines++
      this.pendingQuotes += quotes
      if ((this.pendingQuotes & 1) === 0) {
        const text = this.pendingText
        this.pendingText = ''
        this.pendingLines = 0
        this.row(text, this.pendingStart)
      } else if (this.pendingLines > 100_000 || this.pendingText.length > 64 * 1024 * 1024) {
        this.skipped.skip('unterminated quoted field', this.pendingStart, this.pendingLines)
        this.pendingText = ''
        this.pendingLines = 0
      }
    }
  }

  private row(text: string, line: number): void {
    const fields = parseCsvRow(text)
    if (fields === undefined || fields.length < 22 || fields.length > 27 || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(fields[0]!)) {
      this.skipUnreadable(text, 'not a csvlog row', line)
      return
    }
    const session = detach(fields[5] || fields[3] || '')
    const origin = originOf(fields[1] || undefined, fields[2] || undefined, fields[22] || undefined)
    this.emit({
      atMs: this.times.parse(fields[0]!),
      session,
      origin: origin === undefined ? undefined : detach(origin),
      severity: fields[11]!,
      message: fields[13]!,
      ...(fields[14] ? { detail: fields[14] } : {}),
      ...(fields[19] ? { statement: fields[19] } : {}),
      ...(fields[12] && fields[12] !== '00000' ? { sqlstate: fields[12] } : {}),
      line,
    })
  }

  override finish(): void {
    if (this.pendingLines > 0) this.skipped.skip('truncated record (unterminated quoted field at end of file)', this.pendingStart, this.pendingLines)
    this.pendingLines = 0
  }
}

function countQuotes(line: string): number {
  let count = 0
  let at = line.indexOf('"')
  while (at !== -1) {
    count++
    at = line.indexOf('"', at + 1)
  }
  return count
}

/** RFC 4180 fields of one row; undefined when a quote is malformed. */
export function parseCsvRow(text: string): string[] | undefined {
  const fields: string[] = []
  let i = 0
  const length = text.length
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      let value = ''
      let from = i + 1
      for (;;) {
        const quote = text.indexOf('"', from)
        if (quote === -1) return undefined
        value += text.slice(from, quote)
        if (text.charCodeAt(quote + 1) === 34) {
          value += '"'
          from = quote + 2
          continue
        }
        i = quote + 1
        break
      }
      fields.push(value)
      if (i >= length) return fields
      if (text.charCodeAt(i) !== 44) return undefined
      i++
    } else {
      const comma = text.indexOf(',', i)
      if (comma === -1) {
        fields.push(text.slice(i))
        return fields
      }
      fields.push(text.slice(i, comma))
      i = comma + 1
    }
  }
}

/** jsonlog (PostgreSQL 15+): one JSON object per line. */
class JsonParser extends RecordParser {
  batch({ lines, firstLine }: LineBatch): void {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      if (line.length === 0) continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        this.skipUnreadable(line, 'invalid JSON', firstLine + i)
        continue
      }
      const entry = value as Record<string, unknown> | null
      if (!entry || typeof entry !== 'object' || typeof entry.error_severity !== 'string' || typeof entry.message !== 'string') {
        this.skipped.skip('not a jsonlog record', firstLine + i)
        continue
      }
      const text = (key: string) => (typeof entry[key] === 'string' && entry[key] !== '' ? (entry[key] as string) : undefined)
      const session = text('session_id') ?? (entry.pid !== undefined ? String(entry.pid) : '')
      const state = text('state_code')
      this.emit({
        atMs: typeof entry.timestamp === 'string' ? this.times.parse(entry.timestamp) : undefined,
        session,
        origin: originOf(text('user'), text('dbname'), text('application_name')),
        severity: entry.error_severity,
        message: entry.message,
        ...(text('detail') ? { detail: text('detail') } : {}),
        ...(text('statement') ? { statement: text('statement') } : {}),
        ...(state && state !== '00000' ? { sqlstate: state } : {}),
        line: firstLine + i,
      })
    }
  }
}

/** The format from the first non-empty line: `{` is jsonlog, a timestamp and a comma is csvlog, anything else stderr. */
export function sniffLogFormat(firstLine: string): LogFormat {
  const line = firstLine.trimStart()
  if (line.startsWith('{')) return 'jsonlog'
  if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?( [A-Za-z0-9+:-]+)?,/.test(line)) return 'csvlog'
  return 'stderr'
}

/**
 * Reads one PostgreSQL server log (stderr, csvlog or jsonlog; plain or gzip; a file or stdin),
 * streaming, into the sink. Returns what it read and what it skipped. A file of which no line
 * could be read as a log is an error naming the file and its first line.
 */
export async function readPgLog(file: InputFile, sink: ExecutionSink, options: PgLogOptions = {}): Promise<SourceSummary> {
  const skipped = new SkipCounter(displayName(file))
  const interpreter = new RecordInterpreter(sink, options.params ?? false)
  let parser: RecordParser | undefined
  let format: LogFormat | undefined = options.format && options.format !== 'auto' ? options.format : undefined
  let firstLine: string | undefined

  const create = (chosen: LogFormat) => {
    if (chosen === 'csvlog') return new CsvParser(interpreter, skipped)
    if (chosen === 'jsonlog') return new JsonParser(interpreter, skipped)
    return new StderrParser(options.prefix ?? DEBIAN_PREFIX, interpreter, skipped)
  }

  const { bytes, lines } = await readLineBatches(
    file,
    (batch) => {
      if (!parser) {
        firstLine = batch.lines.find((line) => line.trim() !== '')
        if (firstLine === undefined && batch.lines.every((line) => line.trim() === '')) return
        if (firstLine?.includes('"resourceSpans"')) {
          throw badInput(`${displayName(file)} looks like OpenTelemetry traces (OTLP JSON), not a PostgreSQL log`, `Pass it with --otlp ${file.name}.`)
        }
        format ??= sniffLogFormat(firstLine ?? '')
        parser = create(format)
      }
      parser.batch(batch)
    },
    (progress) => options.onProgress?.(progress.bytes),
    options.stdin,
  )
  parser?.finish()
  interpreter.finish()

  const records = parser?.records ?? 0
  if (records === 0 && skipped.lines > 0) {
    const example = skipped.examples[0]!
    const shown = firstLine !== undefined ? `: "${truncate(firstLine, 100)}"` : ''
    throw badInput(
      `No line of ${displayName(file)} could be read as a PostgreSQL log in ${format ?? 'stderr'} format (${skipped.lines} lines skipped; ${example.at}: ${example.reason}${shown})`,
      format === 'stderr' || format === undefined
        ? `Give the server's log_line_prefix with --prefix (SHOW log_line_prefix), e.g. --prefix '${DEBIAN_PREFIX}', or --log-format csvlog / jsonlog.`
        : 'Check the file: csvlog and jsonlog files come from log_destination = csvlog / jsonlog.',
    )
  }
  const notes: Record<string, number> = { ...interpreter.notes }
  for (const zone of parser?.unknownZones ?? []) notes[`unknown time zone ${zone} (read as UTC)`] = 1
  return {
    kind: 'log',
    name: displayName(file),
    format: format ?? 'stderr',
    bytes,
    lines,
    records,
    statements: interpreter.statements,
    errors: interpreter.errors,
    skipped: skipped.toJSON(),
    notes,
  }
}

function truncate(text: string, max: number): string {
  const clean = text.replace(/[\u0000-\u0008\u000e-\u001f]/g, '?')
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean
}
