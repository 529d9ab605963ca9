import type { AcquireTimes, PoolMetrics } from './model.js'
import { histogramOf, histogramQuantile, parsePrometheusText, sumOf, type PrometheusParse } from './prometheus.js'

/**
 * The metric names a service exports for its pg pool (the reference service does; any service
 * can, see docs/activity.md). Several pools (label sets) add up.
 */
export const POOL_METRICS = {
  total: 'pg_pool_total_connections',
  idle: 'pg_pool_idle_connections',
  waiting: 'pg_pool_waiting_requests',
  max: 'pg_pool_max_connections',
  acquire: 'pg_pool_acquire_duration_seconds',
} as const

export type PoolReading = { ok: true; pool: PoolMetrics; skipped: PrometheusParse['skipped'] } | { ok: false; reason: string }

/** A /metrics page -> the pool's gauges and acquire times; a page without the gauges says so. */
export function readPoolMetrics(text: string, source: string): PoolReading {
  const parsed = parsePrometheusText(text)
  const { samples } = parsed
  const total = sumOf(samples, POOL_METRICS.total)
  const idle = sumOf(samples, POOL_METRICS.idle)
  const waiting = sumOf(samples, POOL_METRICS.waiting)
  if (total === undefined || idle === undefined || waiting === undefined) {
    const missing = [POOL_METRICS.total, POOL_METRICS.idle, POOL_METRICS.waiting].filter((name) => sumOf(samples, name) === undefined)
    const note = parsed.skipped.lines > 0 ? ` (${parsed.skipped.lines} unreadable lines skipped)` : ''
    return { ok: false, reason: `${source} has no ${missing.join(', ')}${note}` }
  }
  return {
    ok: true,
    pool: { source, total, idle, waiting, max: sumOf(samples, POOL_METRICS.max) ?? null, acquire: acquireTimes(parsed) },
    skipped: parsed.skipped,
  }
}

function acquireTimes(parsed: PrometheusParse): AcquireTimes | null {
  const histogram = histogramOf(parsed.samples, POOL_METRICS.acquire)
  if (!histogram) return null
  const ms = (q: number) => {
    const seconds = histogramQuantile(histogram, q)
    return seconds === undefined ? null : seconds * 1000
  }
  return {
    count: histogram.count,
    meanMs: histogram.count > 0 ? (histogram.sum / histogram.count) * 1000 : null,
    p50Ms: ms(0.5),
    p95Ms: ms(0.95),
    p99Ms: ms(0.99),
  }
}
