import { badInput, formatBytes, type ProgressListener } from '../core/index.js'
import { NPlusOneDetector } from './detect.js'
import { QueryIdentifier, loadQueryParser } from './identity.js'
import { expandInputs, type InputFile } from './sources/input.js'
import { readOtlp } from './sources/otlp.js'
import { readPgLog, type LogFormat } from './sources/pglog/read.js'
import { readServiceLog } from './sources/service-log.js'
import { StatementStats, type TopSort } from './top.js'
import type { ExecutionSink, NPlusOneOptions, NPlusOneReport, SourceSummary, TopReport } from './types.js'

/** Where the statements come from: any mix of server logs, OTLP traces and service query logs. */
export interface QuerySources {
  /** PostgreSQL server logs: paths, globs, or `-` for stdin (plain or gzip). */
  logs?: readonly string[]
  /** OTLP JSON trace files. */
  otlp?: readonly string[]
  /** Query logs written by the live hook's JSON-lines sink. */
  serviceLogs?: readonly string[]
}

export interface ReadOptions {
  /** log_line_prefix of stderr logs. */
  prefix?: string
  logFormat?: LogFormat | 'auto'
  /** Told how far reading has got, for inputs big enough to be worth a bar; the module draws nothing itself. */
  onProgress?: ProgressListener
  cwd?: string
  stdin?: NodeJS.ReadableStream
}

/** Inputs from this size on get a progress bar. */
const PROGRESS_FROM_BYTES = 32 * 1024 * 1024

/** Reads every source into the sink, streaming; returns what each one read and skipped. */
export async function readQuerySources(
  sources: QuerySources,
  sink: ExecutionSink,
  options: ReadOptions & { params?: boolean } = {},
): Promise<SourceSummary[]> {
  const groups: Array<{ kind: 'log' | 'otlp' | 'service-log'; files: InputFile[] }> = [
    { kind: 'log', files: expandInputs(sources.logs ?? [], options.cwd) },
    { kind: 'otlp', files: expandInputs(sources.otlp ?? [], options.cwd) },
    { kind: 'service-log', files: expandInputs(sources.serviceLogs ?? [], options.cwd) },
  ]
  const all = groups.flatMap((group) => group.files)
  if (all.length === 0)
    throw badInput(
      'No input given',
      'Pass --log FILE (PostgreSQL server log), --otlp FILE (OTLP JSON traces) or --service-log FILE (opsctl query log); - reads stdin.',
    )
  if (all.filter((file) => !file.path).length > 1) throw badInput('Standard input (-) can be read only once', 'Pass - for one source only.')

  const total = all.reduce((sum, file) => sum + (file.size ?? 0), 0)
  const listener = options.onProgress && total >= PROGRESS_FROM_BYTES ? options.onProgress : undefined
  const task = 'Reading'
  let done = 0
  const summaries: SourceSummary[] = []
  try {
    for (const group of groups) {
      for (const file of group.files) {
        const base = done
        const onProgress = listener
          ? (bytes: number) =>
              listener({ task, done: base + bytes, total, detail: `${formatBytes(base + bytes)} of ${formatBytes(total)}` })
          : undefined
        const common = { ...(onProgress ? { onProgress } : {}), ...(options.stdin ? { stdin: options.stdin } : {}) }
        const summary =
          group.kind === 'log'
            ? await readPgLog(file, sink, {
                ...common,
                ...(options.prefix ? { prefix: options.prefix } : {}),
                ...(options.logFormat ? { format: options.logFormat } : {}),
                params: options.params ?? false,
              })
            : group.kind === 'otlp'
              ? await readOtlp(file, sink, common)
              : await readServiceLog(file, sink, common)
        done += file.size ?? 0
        summaries.push(summary)
      }
    }
  } finally {
    listener?.({ task, done, total, finished: true })
  }
  return summaries
}

/** N+1 patterns in the given sources. */
export async function findNPlusOne(sources: QuerySources, options: NPlusOneOptions & ReadOptions = {}): Promise<NPlusOneReport> {
  await loadQueryParser()
  const detector = new NPlusOneDetector(options, new QueryIdentifier())
  const summaries = await readQuerySources(
    sources,
    {
      execution: (execution) => detector.add(execution),
      endSession: (session) => detector.endSession(session),
    },
    { ...options, params: options.showParams ?? false },
  )
  const { patterns, totals } = detector.finish()
  requireStatements(summaries)
  const warnings = sourceWarnings(summaries)
  if (totals.lexical > 0) warnings.push(lexicalWarning(totals.lexical))
  if (!totals.timed && totals.executions > 0)
    warnings.push('No durations in the input: patterns are judged by count only (minTotal does not apply).')
  return { patterns, totals, options: detector.options, sources: summaries, warnings }
}

/** pgBadger-style statement summary of the given sources. */
export async function summarizeStatements(
  sources: QuerySources,
  options: ReadOptions & { limit?: number; sortBy?: TopSort } = {},
): Promise<TopReport> {
  await loadQueryParser()
  const stats = new StatementStats(new QueryIdentifier())
  const summaries = await readQuerySources(
    sources,
    { execution: (execution) => stats.add(execution), failure: (failure) => stats.failure(failure) },
    options,
  )
  const result = stats.finish({ ...(options.limit ? { limit: options.limit } : {}), ...(options.sortBy ? { sortBy: options.sortBy } : {}) })
  if (result.totals.calls === 0 && result.totals.errors === 0) requireStatements(summaries)
  const warnings = sourceWarnings(summaries)
  if (result.totals.lexical > 0) warnings.push(lexicalWarning(result.totals.lexical))
  if (result.totals.calls > 0 && result.totals.totalMs === undefined)
    warnings.push('No durations in the input: statements are ranked by calls.')
  return { ...result, sources: summaries, warnings }
}

function requireStatements(summaries: SourceSummary[]): void {
  if (summaries.some((summary) => summary.statements > 0)) return
  const names = summaries.map((summary) => summary.name).join(', ')
  const kinds = new Set(summaries.map((summary) => summary.kind))
  const hint = kinds.has('log')
    ? "Log statements on the server: log_min_duration_statement = 0 (with durations) or log_statement = 'all', then reload."
    : kinds.has('otlp')
      ? 'Database spans need the SQL: instrument the client (e.g. @opentelemetry/instrumentation-pg) so spans carry db.query.text or db.statement.'
      : 'Record queries with instrumentPg and createJsonLinesSink while the service serves requests.'
  const read = summaries.map((summary) => `${summary.records} ${summary.kind === 'otlp' ? 'spans' : 'records'}`).join(', ')
  throw badInput(`No SQL statements found in ${names} (${read} read)`, hint)
}

function sourceWarnings(summaries: SourceSummary[]): string[] {
  const warnings: string[] = []
  for (const summary of summaries) {
    if (summary.skipped.lines === 0) continue
    const reasons = Object.entries(summary.skipped.reasons)
      .map(([reason, count]) => `${count} ${reason}`)
      .join(', ')
    const first = summary.skipped.examples[0]
    warnings.push(
      `${summary.name}: skipped ${summary.skipped.lines} of ${summary.lines} lines (${reasons})${first ? `; first at ${first.at}` : ''}.`,
    )
  }
  for (const summary of summaries) {
    for (const note of Object.keys(summary.notes)) if (note.startsWith('unknown time zone')) warnings.push(`${summary.name}: ${note}.`)
  }
  return warnings
}

function lexicalWarning(count: number): string {
  return `${count} statement${count === 1 ? '' : 's'} could not be parsed by the PostgreSQL parser; they are grouped by a lexical normalisation (marked "lexical").`
}
