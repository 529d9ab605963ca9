// PostgreSQL server logs: the format sniffed (or given), then one parser per format (stderr.ts,
// csvlog.ts, jsonlog.ts) over the shared record interpreter (records.ts).
import { badInput } from '../../../core/index.js'
import type { ExecutionSink, SourceSummary } from '../../types.js'
import { SkipCounter, displayName, readLineBatches, type InputFile } from '../input.js'
import { CsvParser } from './csvlog.js'
import { JsonParser } from './jsonlog.js'
import { NPLUSONE_DEFAULTS } from '../../config.js'
import { RecordInterpreter, type RecordParser } from './records.js'
import { StderrParser } from './stderr.js'

export type LogFormat = 'stderr' | 'csvlog' | 'jsonlog'

export interface PgLogOptions {
  /** log_line_prefix of stderr logs (default: the config key nplusone.logLinePrefix's default, Debian's). */
  prefix?: string
  /** Force a format instead of sniffing it from the first lines. */
  format?: LogFormat | 'auto'
  /** Keep bound parameter values (DETAIL: parameters: ...) on executions. */
  params?: boolean
  onProgress?: (bytes: number) => void
  stdin?: NodeJS.ReadableStream
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
    return new StderrParser(options.prefix ?? NPLUSONE_DEFAULTS.logLinePrefix, interpreter, skipped)
  }

  const { bytes, lines } = await readLineBatches(
    file,
    (batch) => {
      if (!parser) {
        firstLine = batch.lines.find((line) => line.trim() !== '')
        if (firstLine === undefined && batch.lines.every((line) => line.trim() === '')) return
        if (firstLine?.includes('"resourceSpans"')) {
          throw badInput(
            `${displayName(file)} looks like OpenTelemetry traces (OTLP JSON), not a PostgreSQL log`,
            `Pass it with --otlp ${file.name}.`,
          )
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
        ? `Give the server's log_line_prefix with --prefix (SHOW log_line_prefix), e.g. --prefix '${NPLUSONE_DEFAULTS.logLinePrefix}', or --log-format csvlog / jsonlog.`
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
