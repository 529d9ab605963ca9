/**
 * OpenTelemetry tracing, switched on by OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-only
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Without it the SDK is never even imported, so tracing
 * costs nothing when unused.
 *
 * The http and pg instrumentations patch those modules when they are first loaded, so this
 * must run before anything imports `pg`, `fastify` or `node:http`: server.ts awaits
 * startTracing() and only then imports the app dynamically.
 */

export interface Tracing {
  /** Flushes spans still buffered and stops the exporter. */
  shutdown(): Promise<void>
}

/** Probes and scrapes every few seconds would drown the interesting traces. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

type Env = Record<string, string | undefined>

export function tracingEnabled(env: Env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim())
}

export async function startTracing(env: Env = process.env): Promise<Tracing | undefined> {
  if (!tracingEnabled(env) || env.OTEL_SDK_DISABLED === 'true') return undefined
  const [{ NodeSDK }, { OTLPTraceExporter }, { HttpInstrumentation }, { PgInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
  ])
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME, when set, wins: the SDK reads it from the environment.
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: 'reference-service' }),
    // OTLP over HTTP with JSON bodies; the exporter reads the endpoint and headers from OTEL_*.
    traceExporter: new OTLPTraceExporter(),
    // Traces only: no log exporter (the SDK would otherwise default to one).
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
      }),
      // One span per query with its statement, which opsctl's N+1 detector reads from traces;
      // never the parameter values, which can hold personal data.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  })
  sdk.start()
  return { shutdown: () => sdk.shutdown() }
}
