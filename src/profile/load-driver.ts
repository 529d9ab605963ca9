/** Load against the profiled target, through the load module (autocannon underneath). Adapter. */
import { runLoad, type LoadResult } from '../load/index.js'

export interface DriveLoadOptions {
  /** Full URL of the request (quick form), or the target origin for a scenario. */
  url: string
  /** A load scenario file; its requests go to `url`'s origin. */
  scenarioFile?: string
  /** Without it, the scenario's own length (or the load module's default). */
  durationMs?: number
  connections?: number
  /** Requests per second (open model); without it, closed model as fast as the target answers. */
  rate?: number
  signal?: AbortSignal
  note?(message: string): void
}

/** What a profile run reports about its load: enough to judge whether the profile saw real work. */
export interface LoadReport {
  target: string
  requests: number
  failed: number
  rps: number
  p50Ms: number
  p99Ms: number
  errorRate: number
  measuredMs: number
  statusCodes: Record<string, number>
  errorCodes: Record<string, number>
}

export async function driveLoad(options: DriveLoadOptions): Promise<LoadReport> {
  const source = options.scenarioFile ? { scenarioFile: options.scenarioFile, target: options.url } : { url: { url: options.url } }
  const result: LoadResult = await runLoad({
    source,
    overrides: {
      ...(options.durationMs !== undefined ? { durationMs: options.durationMs } : {}),
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
      ...(options.rate !== undefined ? { rate: options.rate } : {}),
    },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.note ? { note: options.note } : {}),
  })
  const aggregate = result.aggregate
  return {
    target: result.target,
    requests: aggregate.requests.total,
    failed: aggregate.requests.failed,
    rps: aggregate.rps,
    p50Ms: aggregate.latency.p50,
    p99Ms: aggregate.latency.p99,
    errorRate: aggregate.errorRate,
    measuredMs: aggregate.measuredMs,
    statusCodes: aggregate.statusCodes,
    errorCodes: aggregate.errorCodes,
  }
}
