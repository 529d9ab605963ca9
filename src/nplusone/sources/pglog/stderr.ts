import { badInput } from '../../../core/index.js'
import { detach } from '../../lexical.js'
import type { LineBatch, SkipCounter } from '../input.js'
import { compilePrefix, type CompiledPrefix } from './prefix.js'
import { RecordParser, originOf, type LogRecord, type RecordInterpreter } from './records.js'

/** Severities of the lines that attach to the record before them. */
const SECONDARY = new Set(['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT', 'QUERY', 'LOCATION'])

/** stderr logs: primary lines matched by the prefix; tab-indented continuation lines; DETAIL and friends attach. */
export class StderrParser extends RecordParser {
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
      throw badInput(
        `log_line_prefix "${prefix}" has neither %p nor %c`,
        'Statements are grouped by session: log_line_prefix must contain %p (process id) or %c (session id).',
      )
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
    const session = this.sessionOf(
      (this.sessionGroup !== undefined ? match[this.sessionGroup] : undefined) ??
        (this.pidGroup !== undefined ? match[this.pidGroup] : undefined) ??
        '',
    )
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
    const pid = this.pidGroup !== undefined ? Number(match[this.pidGroup]) : Number.NaN
    if (Number.isSafeInteger(pid)) record.pid = pid
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
