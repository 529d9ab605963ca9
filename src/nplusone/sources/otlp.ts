import { badInput } from '../../core/index.js'
import type { ExecutionSink, QueryExecution, SourceSummary, UnitRef } from '../types.js'
import { SkipCounter, displayName, readLineBatches, type InputFile } from './input.js'

/**
 * OpenTelemetry traces in OTLP JSON: one ExportTraceServiceRequest document, or the JSON
 * lines the Collector's file exporter writes (one request per line). Database spans are
 * recognised by the semantic conventions, old and new: `db.system` / `db.system.name` for
 * the span, `db.statement` / `db.query.text` for the SQL. Spans without SQL (pool and
 * connection spans) are counted, not treated as queries.
 *
 * The unit of work of a query is its trace's nearest SERVER or CONSUMER ancestor (the
 * request), or else its parent span: spans the application creates per loop iteration do
 * not hide the loop. Spans are buffered per trace and fed in start order once the trace is
 * done: when the input ends, when TRACE_QUIET_MS of span time has passed since its last span
 * ended (exporters send a trace's spans within seconds of each other), or, beyond
 * MAX_BUFFERED_TRACES, the trace touched longest ago first. Memory stays flat on a file of any
 * size; a span that comes after its trace was fed starts a new unit, and is counted.
 */

interface OtlpSpan {
  traceId?: string
  spanId?: string
  parentSpanId?: string
  name?: string
  kind?: number | string
  startTimeUnixNano?: string | number
  endTimeUnixNano?: string | number
  attributes?: OtlpAttribute[]
  status?: { code?: number | string; message?: string }
}

interface OtlpAttribute {
  key: string
  value?: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
}

interface SpanInfo {
  parent?: string
  name?: string
  kind: number
  route?: string
}

interface DbSpan {
  execution: QueryExecution
  spanId?: string
  parent?: string
}

interface TraceBuffer {
  spans: Map<string, SpanInfo>
  queries: DbSpan[]
  /** The latest end (or start) time of its spans, epoch ms. */
  lastMs?: number
}

const TRACE_QUIET_MS = 5 * 60_000
const MAX_BUFFERED_TRACES = 20_000
const SWEEP_EVERY_SPANS = 4096
/** Traces already fed, remembered to count spans that arrive after them. */
const MAX_REMEMBERED_TRACES = 100_000

const SPAN_KIND: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
}

export async function readOtlp(
  file: InputFile,
  sink: ExecutionSink,
  options: { onProgress?: (bytes: number) => void; stdin?: NodeJS.ReadableStream } = {},
): Promise<SourceSummary> {
  const name = displayName(file)
  const skipped = new SkipCounter(name)
  /** Open traces, the one touched longest ago first. */
  const traces = new Map<string, TraceBuffer>()
  const fed = new Set<string>()
  const notes: Record<string, number> = {}
  const note = (what: string, count = 1) => (notes[what] = (notes[what] ?? 0) + count)
  let spans = 0
  let requests = 0
  let traceCount = 0
  let statements = 0
  let errors = 0
  let latestMs = -Infinity
  let sinceSweep = 0

  const feed = (traceId: string, trace: TraceBuffer) => {
    traces.delete(traceId)
    fed.add(traceId)
    if (fed.size > MAX_REMEMBERED_TRACES) fed.delete(fed.values().next().value!)
    trace.queries.sort((a, b) => (a.execution.startMs ?? 0) - (b.execution.startMs ?? 0))
    for (const query of trace.queries) {
      query.execution.unit = unitOf(traceId, query, trace.spans)
      if (query.execution.error !== undefined) {
        errors++
        sink.failure?.({
          message: query.execution.error,
          sql: query.execution.sql,
          ...(query.execution.errorCode ? { code: query.execution.errorCode } : {}),
        })
      } else {
        statements++
        sink.execution(query.execution)
      }
    }
  }
  const sweep = () => {
    sinceSweep = 0
    for (const [traceId, trace] of traces) {
      const quiet = trace.lastMs !== undefined && trace.lastMs < latestMs - TRACE_QUIET_MS
      if (quiet || traces.size > MAX_BUFFERED_TRACES) feed(traceId, trace)
    }
  }
  let documentLines: string[] | undefined
  let documentStart = 0

  const takeRequest = (request: unknown, line: number) => {
    const resourceSpans = (request as { resourceSpans?: unknown })?.resourceSpans
    if (!Array.isArray(resourceSpans)) {
      skipped.skip('not an OTLP trace request (no resourceSpans)', line)
      return
    }
    requests++
    for (const resource of resourceSpans as Array<Record<string, unknown>>) {
      const scopes = (resource.scopeSpans ?? resource.instrumentationLibrarySpans ?? []) as Array<{ spans?: OtlpSpan[] }>
      for (const scope of scopes) {
        for (const span of scope.spans ?? []) {
          spans++
          takeSpan(span, line)
        }
      }
    }
  }

  const takeSpan = (span: OtlpSpan, line: number) => {
    const traceId = span.traceId
    if (!traceId) {
      skipped.skip('span without traceId', line)
      return
    }
    let trace = traces.get(traceId)
    if (trace) {
      // Touched: to the back of the eviction order.
      traces.delete(traceId)
      traces.set(traceId, trace)
    } else {
      trace = { spans: new Map(), queries: [] }
      traces.set(traceId, trace)
      if (fed.has(traceId)) note('spans after their trace was fed (a unit of their own)')
      else traceCount++
    }
    const start = nanosToMs(span.startTimeUnixNano)
    const end = nanosToMs(span.endTimeUnixNano)
    const seenMs = end ?? start
    if (seenMs !== undefined) {
      if (trace.lastMs === undefined || seenMs > trace.lastMs) trace.lastMs = seenMs
      if (seenMs > latestMs) latestMs = seenMs
    }
    if (++sinceSweep >= SWEEP_EVERY_SPANS) sweep()
    const attributes = attributeMap(span.attributes)
    const kind = typeof span.kind === 'string' ? (SPAN_KIND[span.kind] ?? 0) : (span.kind ?? 0)
    const parent = span.parentSpanId || undefined
    if (span.spanId) {
      const route = attributes.get('http.route')
      trace.spans.set(span.spanId, {
        ...(parent ? { parent } : {}),
        ...(span.name ? { name: span.name } : {}),
        kind,
        ...(typeof route === 'string' ? { route } : {}),
      })
    }
    const system = attributes.get('db.system.name') ?? attributes.get('db.system')
    if (system === undefined) return
    const sql = attributes.get('db.query.text') ?? attributes.get('db.statement')
    if (typeof sql !== 'string' || sql.trim() === '') {
      note(/connect/i.test(span.name ?? '') ? 'connection spans' : 'database spans without SQL')
      return
    }
    const execution: QueryExecution = { sql }
    if (start !== undefined) execution.startMs = start
    if (end !== undefined) execution.endMs = end
    if (start !== undefined && end !== undefined && end >= start) execution.durationMs = end - start
    const rows = attributes.get('db.response.returned_rows') ?? attributes.get('db.rows_affected')
    if (typeof rows === 'number') execution.rows = rows
    const callSite = callSiteOf(attributes)
    if (callSite) execution.callSite = callSite
    const statusCode = span.status?.code
    if (statusCode === 2 || statusCode === 'STATUS_CODE_ERROR') {
      execution.error = span.status?.message || String(attributes.get('error.type') ?? 'error')
      const code = attributes.get('db.response.status_code')
      if (typeof code === 'string') execution.errorCode = code
    }
    trace.queries.push({ execution, ...(span.spanId ? { spanId: span.spanId } : {}), ...(parent ? { parent } : {}) })
  }

  const { bytes, lines } = await readLineBatches(
    file,
    ({ lines: batch, firstLine }) => {
      for (let i = 0; i < batch.length; i++) {
        const line = batch[i]!
        const lineNumber = firstLine + i
        if (documentLines) {
          documentLines.push(line)
          continue
        }
        if (line.trim() === '') continue
        let value: unknown
        try {
          value = JSON.parse(line)
        } catch {
          if (requests === 0 && skipped.lines === 0 && line.trimStart().startsWith('{')) {
            // A pretty-printed document: gather it whole.
            documentLines = [line]
            documentStart = lineNumber
            continue
          }
          skipped.skip(line.includes('\u0000') || line.includes('\uFFFD') ? 'binary data' : 'invalid JSON', lineNumber)
          continue
        }
        takeRequest(value, lineNumber)
      }
    },
    (progress) => options.onProgress?.(progress.bytes),
    options.stdin,
  )

  if (documentLines) {
    let document: unknown
    try {
      document = JSON.parse(documentLines.join('\n'))
    } catch (error) {
      throw badInput(
        `Cannot read ${name} as OTLP JSON: ${jsonErrorAt(error, documentLines, documentStart)}`,
        'Export the traces again; a file cut short is not valid JSON.',
      )
    }
    takeRequest(document, documentStart)
  }

  if (requests === 0) {
    if (lines === 0)
      throw badInput(
        `${name} is empty`,
        'Give an OTLP JSON file: an ExportTraceServiceRequest document or the Collector file exporter output.',
      )
    const example = skipped.examples[0]
    throw badInput(
      `${name} is not OTLP JSON traces${example ? ` (${example.at}: ${example.reason})` : ''}`,
      'Give an ExportTraceServiceRequest document or the JSON lines of the Collector file exporter; PostgreSQL logs go with --log.',
    )
  }

  const format = documentLines || (requests === 1 && lines <= 1) ? 'otlp-json' : 'otlp-jsonl'
  for (const [traceId, trace] of traces) feed(traceId, trace)
  note('traces', traceCount)
  note('spans', spans)
  return { kind: 'otlp', name, format, bytes, lines, records: spans, statements, errors, skipped: skipped.toJSON(), notes }
}

function unitOf(traceId: string, query: DbSpan, spans: Map<string, SpanInfo>): UnitRef {
  // Walk up to the request: the nearest SERVER or CONSUMER span.
  let id = query.parent
  let fallback: { id: string; info?: SpanInfo } | undefined = id ? { id, ...(spans.has(id) ? { info: spans.get(id)! } : {}) } : undefined
  const seen = new Set<string>()
  while (id && !seen.has(id)) {
    seen.add(id)
    const info = spans.get(id)
    if (!info) break
    if (info.kind === 2 || info.kind === 5) {
      fallback = { id, info }
      break
    }
    id = info.parent
  }
  const label = fallback?.info?.route ? `${fallback.info.name?.split(' ')[0] ?? ''} ${fallback.info.route}`.trim() : fallback?.info?.name
  return {
    kind: 'trace',
    id: `${traceId}/${fallback?.id ?? 'root'}`,
    traceId,
    ...(fallback ? { spanId: fallback.id } : {}),
    ...(label ? { label } : { label: `trace ${traceId.slice(0, 8)}…` }),
  }
}

function attributeMap(attributes: OtlpAttribute[] | undefined): Map<string, string | number | boolean> {
  const map = new Map<string, string | number | boolean>()
  for (const attribute of attributes ?? []) {
    const value = attribute.value
    if (!value) continue
    if (value.stringValue !== undefined) map.set(attribute.key, value.stringValue)
    else if (value.intValue !== undefined) map.set(attribute.key, Number(value.intValue))
    else if (value.doubleValue !== undefined) map.set(attribute.key, value.doubleValue)
    else if (value.boolValue !== undefined) map.set(attribute.key, value.boolValue)
  }
  return map
}

function callSiteOf(attributes: Map<string, string | number | boolean>): string | undefined {
  const file = attributes.get('code.file.path') ?? attributes.get('code.filepath')
  const line = attributes.get('code.line.number') ?? attributes.get('code.lineno')
  const fn = attributes.get('code.function.name') ?? attributes.get('code.function')
  if (typeof file === 'string') return `${file}${line !== undefined ? `:${line}` : ''}${typeof fn === 'string' ? ` (${fn})` : ''}`
  const stack = attributes.get('code.stacktrace')
  if (typeof stack === 'string')
    return stack
      .split('\n')
      .find((frame) => frame.includes('at ') && !frame.includes('node_modules'))
      ?.trim()
      .replace(/^at /, '')
  return typeof fn === 'string' ? fn : undefined
}

function nanosToMs(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '' || value === 0 || value === '0') return undefined
  if (typeof value === 'number') return value / 1e6
  // Nanoseconds exceed 2^53: split into milliseconds and the rest.
  if (!/^\d+$/.test(value)) return undefined
  if (value.length <= 6) return Number(value) / 1e6
  return Number(value.slice(0, -6)) + Number(value.slice(-6)) / 1e6
}

function jsonErrorAt(error: unknown, lines: string[], start: number): string {
  const message = (error as Error).message
  const position = /position (\d+)/.exec(message)
  if (!position)
    return `the document starting at line ${start} is cut short: it ends at line ${start + lines.length - 1} before the JSON is complete`
  let remaining = Number(position[1])
  for (let i = 0; i < lines.length; i++) {
    if (remaining <= lines[i]!.length)
      return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${start + i}, column ${remaining + 1}`
    remaining -= lines[i]!.length + 1
  }
  return `unexpected end of the document (started at line ${start}, ${lines.length} lines)`
}
