// The reference service's N+1 endpoint (GET /users/:id/orders) against a real PostgreSQL 15 with
// statement logging on (a throwaway cluster), found from all three sources: the live hook, the
// server's stderr / csvlog / jsonlog logs, and OTLP JSON traces produced in-process by the
// OpenTelemetry pg instrumentation. With orders.eager-loading on, none of them finds anything.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { SpanKind, context, trace, type Span } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type pgTypes from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, envFlagProvider, migrate, seed } from '../../reference-service/src/index.js'
import {
  createJsonLinesSink,
  createQueryRecorder,
  findNPlusOne,
  instrumentPg,
  runInUnitOfWork,
  summarizeStatements,
  type PgInstrumentation as OpsctlPgInstrumentation,
  type QueryExecution,
} from '../../src/nplusone/index.js'
import type { NPlusOnePattern } from '../../src/nplusone/types.js'
import { runCli } from '../helpers/cli.js'
import { requireOrSkip } from '../helpers/requirements.js'
import {
  clusterUnavailableReason,
  sizeOf,
  sliceFile,
  startThrowawayCluster,
  waitForText,
  type ThrowawayCluster,
} from './helpers/cluster.js'

const ITEMS = 'SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE order_id = $1 ORDER BY id'
const ORDERS = 'SELECT id, user_id, status, created_at FROM orders WHERE user_id = $1 ORDER BY created_at, id'

interface Phase {
  logs: { stderr: string; csv: string; json: string }
  otlp: string
  otlpLines: string
  serviceLog: string
  executions: QueryExecution[]
  orders: number
}

const reason = clusterUnavailableReason()
const available = requireOrSkip(reason === undefined, `N+1 integration: ${reason}`)

describe.runIf(available)('N+1 detection on the reference service', () => {
  let cluster: ThrowawayCluster
  let dir: string
  let pool: pgTypes.Pool
  let hook: OpsctlPgInstrumentation
  let otel: PgInstrumentation
  const exporter = new InMemorySpanExporter()
  const recorder = createQueryRecorder()
  let sink: ReturnType<typeof createJsonLinesSink>
  const phases: Record<'lazy' | 'eager', Phase> = {} as never
  let users: number[] = []

  beforeAll(async () => {
    cluster = await startThrowawayCluster()
    dir = mkdtempSync(join(tmpdir(), 'opsctl-nplusone-it-'))

    // OpenTelemetry as a service would set it up: a tracer provider, context propagation, the pg instrumentation.
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(provider)
    otel = new PgInstrumentation()
    otel.setTracerProvider(provider)
    otel.enable()
    const require = createRequire(import.meta.url)
    const pg = require('pg') as typeof pgTypes
    require('pg-pool')

    // opsctl's live hook, writing to memory and to a service query log.
    let phaseLog = join(dir, 'setup.queries.jsonl')
    sink = createJsonLinesSink(phaseLog)
    hook = instrumentPg(pg, {
      onExecution: (execution) => {
        recorder.onExecution(execution)
        sink.write(execution)
      },
    })

    pool = new pg.Pool({ connectionString: cluster.url(), max: 4 })
    await migrate(pool)
    await seed(pool, { scale: 0.05 })
    const { rows } = await pool.query<{ user_id: number }>(
      'SELECT user_id FROM orders GROUP BY user_id HAVING count(*) >= 6 ORDER BY user_id LIMIT 4',
    )
    users = rows.map((row) => row.user_id)
    expect(users.length).toBe(4)
    const { rows: counted } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE user_id = ANY($1)', [users])

    const tracer = trace.getTracer('reference-service-test')
    for (const name of ['lazy', 'eager'] as const) {
      await sink.close()
      phaseLog = join(dir, `${name}.queries.jsonl`)
      sink = createJsonLinesSink(phaseLog)
      recorder.clear()
      exporter.reset()
      const start = { stderr: sizeOf(cluster.logs.stderr), csv: sizeOf(cluster.logs.csv), json: sizeOf(cluster.logs.json) }

      const app = buildApp({
        pool,
        flags: envFlagProvider({ OPSCTL_FLAGS: name === 'eager' ? 'orders.eager-loading' : '' }),
        version: 'test',
      })
      // The wiring a service does: each request is a unit of work and a SERVER span.
      const spans = new WeakMap<object, Span>()
      app.addHook('onRequest', (request, _reply, done) => {
        const route = request.routeOptions.url ?? 'unmatched'
        const span = tracer.startSpan(`${request.method} ${route}`, {
          kind: SpanKind.SERVER,
          attributes: { 'http.route': route, 'http.request.method': request.method },
        })
        spans.set(request, span)
        context.with(trace.setSpan(context.active(), span), () => runInUnitOfWork(`${request.method} ${route}`, () => done()))
      })
      app.addHook('onResponse', async (request) => spans.get(request)?.end())
      await app.ready()
      for (const user of users) {
        const response = await app.inject(`/users/${user}/orders`)
        expect(response.statusCode).toBe(200)
        // Requests far enough apart that the server log's idle gap (50 ms) separates them.
        await sleep(120)
      }
      await app.inject('/items?sku=SKU-00001')
      await app.close()

      const marker = `opsctl-phase-${name}-done`
      await pool.query(`SELECT '${marker}'`)
      await waitForText(Object.values(cluster.logs), marker)
      const end = { stderr: sizeOf(cluster.logs.stderr), csv: sizeOf(cluster.logs.csv), json: sizeOf(cluster.logs.json) }
      const logs = {
        stderr: sliceFile(cluster.logs.stderr, start.stderr, end.stderr, join(dir, `${name}.log`)),
        csv: sliceFile(cluster.logs.csv, start.csv, end.csv, join(dir, `${name}.csv`)),
        json: sliceFile(cluster.logs.json, start.json, end.json, join(dir, `${name}.json`)),
      }
      const finished = exporter.getFinishedSpans()
      const otlp = join(dir, `${name}.otlp.json`)
      writeFileSync(otlp, serialize(finished))
      // The Collector's file exporter: one request per line; here with the new semantic conventions.
      const otlpLines = join(dir, `${name}.otlp.jsonl`)
      const byTrace = new Map<string, ReadableSpan[]>()
      for (const span of finished) byTrace.set(span.spanContext().traceId, [...(byTrace.get(span.spanContext().traceId) ?? []), span])
      writeFileSync(
        otlpLines,
        [...byTrace.values()]
          .map((group) =>
            serialize(group)
              .replace(/"db\.system"/g, '"db.system.name"')
              .replace(/"db\.statement"/g, '"db.query.text"'),
          )
          .join('\n') + '\n',
      )
      phases[name] = { logs, otlp, otlpLines, serviceLog: phaseLog, executions: recorder.executions(), orders: counted[0]!.n }
    }
    await sink.close()
  })

  afterAll(async () => {
    hook?.uninstall()
    otel?.disable()
    await pool?.end().catch(() => {})
    await cluster?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  function expectTheItemsPattern(patterns: NPlusOnePattern[], source: string) {
    expect(
      patterns.map((pattern) => pattern.sql),
      source,
    ).toEqual([ITEMS])
    const [pattern] = patterns
    expect(pattern!.units, source).toBe(users.length)
    expect(pattern!.executions, source).toBe(phases.lazy.orders)
    expect(pattern!.producer?.sql, source).toBe(ORDERS)
    expect(pattern!.fix.batched, source).toBe(
      'SELECT id, order_id, product_id, sku, quantity, price_cents FROM items WHERE order_id = ANY($1) ORDER BY order_id, id',
    )
    return pattern!
  }

  it('finds the N+1 with the live hook, with the route and the call site', async () => {
    const pattern = expectTheItemsPattern(await recorderPatterns(phases.lazy.executions), 'live hook')
    expect(pattern.worstUnit).toMatchObject({ kind: 'request', label: 'GET /users/:id/orders' })
    expect(pattern.callSite).toMatch(/^reference-service\/src\/store\/orders\.ts:\d+:\d+ \(listOrdersWithItems\)$/)
    expect(pattern.totalMs).toBeGreaterThan(0)
    expect(phases.lazy.executions.every((execution) => execution.params === undefined)).toBe(true)
  })

  it('finds the N+1 in the service query log the hook wrote, and fails a CI budget of zero through the CLI', () => {
    const result = runCli(['db', 'nplusone', '--service-log', phases.lazy.serviceLog, '--max', '0'])
    expect(result.status, result.stderr).toBe(1)
    expect(result.stdout).toContain('reference-service/src/store/orders.ts')
    expect(result.stderr).toContain('Found 1 N+1 pattern, more than the budget of 0')
    expect(result.stderr).toContain(ITEMS)
  })

  it.each(['stderr', 'csv', 'json'] as const)('finds the N+1 in the server %s log', async (format) => {
    // A busy machine can pause one request longer than the 50 ms idle gap; the rule that a unit
    // ends when its first statement comes round again separates the requests without timing.
    const report = await findNPlusOne({ logs: [phases.lazy.logs[format]] }, { idleGapMs: 60_000 })
    expect(report.sources[0]!.skipped.lines).toBe(0)
    const pattern = expectTheItemsPattern(report.patterns, format)
    expect(pattern.worstUnit.kind).toBe('session')
    expect(pattern.where[0]!.label).toMatch(/^postgres@postgres/)
  })

  it('finds the N+1 in OTLP JSON traces, one document (old conventions) or JSON lines (new conventions)', async () => {
    for (const file of [phases.lazy.otlp, phases.lazy.otlpLines]) {
      const report = await findNPlusOne({ otlp: [file] })
      const pattern = expectTheItemsPattern(report.patterns, file)
      expect(pattern.worstUnit).toMatchObject({ kind: 'trace', label: 'GET /users/:id/orders' })
      // The pool's connect spans are database spans without SQL: counted, not queries.
      expect(report.sources[0]!.notes['connection spans']).toBeGreaterThan(0)
    }
    expect((await findNPlusOne({ otlp: [phases.lazy.otlpLines] })).sources[0]!.format).toBe('otlp-jsonl')
  })

  it('finds nothing from any source with orders.eager-loading on', async () => {
    const eager = phases.eager
    expect(eager.executions.some((execution) => execution.sql.includes('= ANY($1::int[])'))).toBe(true)
    expect(await recorderPatterns(eager.executions)).toEqual([])
    for (const sources of [
      { logs: Object.values(eager.logs) },
      { otlp: [eager.otlp, eager.otlpLines] },
      { serviceLogs: [eager.serviceLog] },
    ]) {
      const report = await findNPlusOne(sources)
      expect(report.totals.executions, JSON.stringify(sources)).toBeGreaterThan(users.length * 3)
      expect(report.patterns, JSON.stringify(sources)).toEqual([])
    }
  })

  it('summarises the log for db top: the items query by calls, with p95', async () => {
    const report = await summarizeStatements({ logs: [phases.lazy.logs.csv] }, { sortBy: 'calls' })
    expect(report.statements[0]).toMatchObject({ sql: ITEMS, calls: phases.lazy.orders })
    expect(report.statements[0]!.p95Ms).toBeGreaterThan(0)
  })
})

async function recorderPatterns(executions: QueryExecution[]): Promise<NPlusOnePattern[]> {
  const recorder = createQueryRecorder()
  for (const execution of executions) recorder.onExecution(execution)
  return recorder.patterns()
}

function serialize(spans: ReadableSpan[]): string {
  return new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans))
}
