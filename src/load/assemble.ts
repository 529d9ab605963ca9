/**
 * From runs to a result: merge the runs, judge the thresholds, decide whether the measurement
 * can be trusted, compare with a baseline, and say what the exit code is. Pure.
 */
import { formatDuration, verdict, type Verdict } from '../core/index.js'
import { compareResults, type ComparableResult, type Comparison } from './compare.js'
import type { LoadPlan } from './plan.js'
import { decodeHistogram, encodeHistogram, latencyStats, newHistogram } from './recorder.js'
import { RESULT_KIND, RESULT_VERSION, type LoadResult, type LoadSummary, type RunStats, type Validity } from './result.js'
import { evaluateThresholds } from './thresholds.js'

/** The open model may fall short of its target by this much before the run is invalid. */
export const MAX_RATE_SHORTFALL = 0.05

export function assembleResult(
  plan: LoadPlan,
  runs: RunStats[],
  options: { baseline?: ComparableResult & { label?: string } } = {},
): LoadResult {
  const aggregate = aggregateRuns(runs)
  const histogram = decodeHistogram(aggregate.histogram)
  const thresholds = evaluateThresholds(plan.thresholds, {
    percentile: (percentile) =>
      histogram.totalCount === 0 ? Number.NaN : Math.min(histogram.getValueAtPercentile(percentile), histogram.maxValue) / 1000,
    minMs: aggregate.latency.min,
    maxMs: aggregate.latency.max,
    meanMs: aggregate.latency.mean,
    errorRate: aggregate.errorRate,
    rps: aggregate.rps,
    errors: aggregate.requests.errors,
    timeouts: aggregate.requests.timeouts,
    requests: aggregate.requests.total,
  })
  const validity = judgeValidity(plan, runs)
  const partial: Omit<LoadResult, 'summary'> = {
    kind: RESULT_KIND,
    version: RESULT_VERSION,
    name: plan.name,
    target: plan.target.url,
    model: plan.model,
    connections: plan.connections,
    ...(plan.arrival ? { arrival: plan.arrival } : {}),
    ...(plan.durationMs !== undefined ? { durationMs: plan.durationMs } : {}),
    ...(plan.requests !== undefined ? { requestCount: plan.requests } : {}),
    warmupMs: plan.warmupMs,
    latencyCorrected: plan.model === 'open',
    startedAt: runs[0]?.startedAt ?? new Date(0).toISOString(),
    finishedAt: runs.at(-1)?.finishedAt ?? new Date(0).toISOString(),
    aggregate,
    runs,
    thresholds,
    validity,
  }
  const comparison = options.baseline ? compareResults(options.baseline, partial) : undefined
  const result: Omit<LoadResult, 'summary'> = comparison ? { ...partial, comparison } : partial
  return { ...result, summary: summarize(result) }
}

export function aggregateRuns(runs: RunStats[]): LoadResult['aggregate'] {
  const histogram = newHistogram()
  for (const run of runs) histogram.add(decodeHistogram(run.histogram))
  const sum = (pick: (run: RunStats) => number) => runs.reduce((total, run) => total + pick(run), 0)
  const addRecords = (pick: (run: RunStats) => Record<string, number>) => {
    const out: Record<string, number> = {}
    for (const run of runs) for (const [key, count] of Object.entries(pick(run))) out[key] = (out[key] ?? 0) + count
    return out
  }
  const requests = {
    total: sum((run) => run.requests.total),
    ok: sum((run) => run.requests.ok),
    failed: sum((run) => run.requests.failed),
    errors: sum((run) => run.requests.errors),
    timeouts: sum((run) => run.requests.timeouts),
    unexpectedStatus: sum((run) => run.requests.unexpectedStatus),
    checkFailed: sum((run) => run.requests.checkFailed),
    warmup: sum((run) => run.requests.warmup),
    dropped: sum((run) => run.requests.dropped),
    unfinished: sum((run) => run.requests.unfinished),
  }
  const measuredMs = sum((run) => run.measuredMs)
  const rated = runs.filter((run) => run.rate)
  const perRequest = (runs[0]?.perRequest ?? []).map((entry, i) => {
    const all = runs.map((run) => run.perRequest[i]!)
    const requestsOf = all.reduce((total, item) => total + item.requests, 0)
    // per-request percentiles are not mergeable without their histograms: weight by requests
    const weighted = (pick: (item: (typeof all)[number]) => number) =>
      requestsOf ? all.reduce((total, item) => total + pick(item) * item.requests, 0) / requestsOf : 0
    return {
      name: entry.name,
      requests: requestsOf,
      failed: all.reduce((total, item) => total + item.failed, 0),
      p50: weighted((item) => item.p50),
      p99: weighted((item) => item.p99),
    }
  })
  return {
    measuredMs,
    requests,
    statusCodes: addRecords((run) => run.statusCodes),
    errorCodes: addRecords((run) => run.errorCodes),
    checkFailures: addRecords((run) => run.checkFailures),
    bytesReceived: sum((run) => run.bytesReceived),
    rps: measuredMs > 0 ? (requests.total / measuredMs) * 1000 : 0,
    errorRate: requests.total > 0 ? requests.failed / requests.total : 0,
    latency: latencyStats(histogram),
    ...(rated.length
      ? {
          rate: (() => {
            const target = rated.reduce((total, run) => total + run.rate!.target, 0) / rated.length
            const achieved = rated.reduce((total, run) => total + run.rate!.achieved, 0) / rated.length
            return { target, achieved, shortfall: target > 0 ? 1 - achieved / target : 0 }
          })(),
        }
      : {}),
    perRequest,
    histogram: encodeHistogram(histogram),
    ...(runs.some((run) => run.interrupted) ? { interrupted: true as const } : {}),
  }
}

/** Whether the numbers describe the service, or only the tool (or nothing at all). */
export function judgeValidity(plan: LoadPlan, runs: RunStats[]): Validity {
  const reasons: Validity['reasons'] = []
  runs.forEach((run, index) => {
    const which = runs.length > 1 ? ` in run ${index + 1}` : ''
    if (run.interrupted) {
      reasons.push({ code: 'interrupted', message: `the run was interrupted${which}`, hint: 'Let it run to its end.' })
    }
    if (run.requests.total === 0) {
      reasons.push({
        code: 'no-samples',
        message: `no request completed after the warm-up${which}`,
        hint: 'Lengthen the run, shorten the warm-up, or check that the service answers.',
      })
      return
    }
    const generator = run.generator
    if (generator.saturated) {
      reasons.push({
        code: 'generator-saturated',
        message: `the load generator was saturated${which}: its busiest thread's event loop was busy ${percent(generator.eventLoopUtilization)} of the time (CPU ${generator.cpuCores.toFixed(2)} of ${generator.cores} cores), so the numbers are the tool's limit, not the service's`,
        hint:
          plan.model === 'closed'
            ? 'Lower --connections, or use the open model with a --rate the generator can sustain; with more cores, --workers spreads the load over threads.'
            : 'Lower --rate; with more cores, --workers spreads the load over threads.',
      })
    }
    if (run.rate && run.rate.shortfall > MAX_RATE_SHORTFALL) {
      const busy = !generator.saturated
      reasons.push({
        code: 'rate-shortfall',
        message:
          `the open model achieved ${run.rate.achieved.toFixed(1)} rps of the ${run.rate.target.toFixed(1)} rps asked for${which} (${percent(run.rate.shortfall)} short` +
          `${run.requests.dropped ? `, ${run.requests.dropped} requests never sent` : ''}; more than ${percent(MAX_RATE_SHORTFALL)} short is invalid)`,
        hint: busy
          ? `All ${plan.connections} connections were busy waiting for answers (p50 ${formatDuration(run.latency.p50)}): raise --connections to at least rate × latency, or lower --rate.`
          : 'The generator could not keep up: lower --rate, or give it more cores (--workers).',
      })
    }
  })
  return { valid: reasons.length === 0, reasons }
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)}%`
}

export function summarize(result: Omit<LoadResult, 'summary'>): LoadSummary {
  const failedThresholds = result.thresholds.filter((outcome) => !outcome.passed).length
  const verdict = result.comparison?.verdict
  const outcome: LoadSummary['outcome'] =
    !result.validity.valid || verdict === 'inconclusive' ? 'invalid' : failedThresholds > 0 || verdict === 'regressed' ? 'failed' : 'passed'
  return {
    name: result.name,
    target: result.target,
    model: result.model,
    ...(result.aggregate.rate ? { targetRate: round(result.aggregate.rate.target, 2) } : {}),
    connections: result.connections,
    runs: result.runs.length,
    requests: result.aggregate.requests.total,
    rps: round(result.aggregate.rps, 2),
    p50Ms: round(result.aggregate.latency.p50, 3),
    p95Ms: round(result.aggregate.latency.p95, 3),
    p99Ms: round(result.aggregate.latency.p99, 3),
    errorRate: round(result.aggregate.errorRate, 5),
    valid: result.validity.valid,
    thresholds: { passed: result.thresholds.length - failedThresholds, failed: failedThresholds },
    ...(verdict ? { verdict } : {}),
    outcome,
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/**
 * The run's verdict: an invalid measurement first, since its numbers prove nothing; then failed
 * thresholds and a regression against the baseline (fail). An inconclusive comparison (too few
 * samples) is an invalid measurement too: it cannot tell a regression from noise.
 */
export function loadVerdict(result: Pick<LoadResult, 'validity' | 'thresholds' | 'comparison'>): Verdict {
  if (!result.validity.valid) {
    const [first] = result.validity.reasons
    return verdict(
      'invalid',
      result.validity.reasons.map((reason) => reason.message),
      first?.hint ? { hint: first.hint } : {},
    )
  }
  const failed = result.thresholds.filter((outcome) => !outcome.passed)
  const comparison = result.comparison
  if (comparison?.verdict === 'inconclusive') return comparisonVerdict(comparison)
  const reasons: string[] = []
  if (failed.length > 0)
    reasons.push(
      `${failed.length} of ${result.thresholds.length} threshold${result.thresholds.length === 1 ? '' : 's'} failed: ${failed.map((outcome) => `${outcome.threshold} (${outcome.description})`).join(', ')}`,
    )
  if (comparison?.verdict === 'regressed') reasons.push(...comparisonVerdict(comparison).reasons)
  if (reasons.length === 0) return verdict('pass')
  return verdict('fail', reasons, {
    hint:
      failed.length > 0
        ? 'The service missed its budget: see the latency table above.'
        : 'Compare the per-second series of both results, or profile the change.',
  })
}

/** A comparison's verdict: regressed fails; inconclusive (too few samples) is an invalid measurement. */
export function comparisonVerdict(comparison: Comparison): Verdict {
  if (comparison.verdict === 'inconclusive') {
    return verdict('invalid', [`inconclusive comparison with the baseline: ${comparison.explanation}`], {
      hint: 'Run longer (more seconds give more samples) or with --runs N.',
    })
  }
  if (comparison.verdict === 'regressed') {
    const regressed = comparison.metrics.filter((metric) => metric.verdict === 'regressed')
    return verdict('fail', [`regressed against the baseline: ${regressed.map((metric) => metric.explanation).join('; ')}`], {
      hint: 'Compare the per-second series of both results, or profile the change.',
    })
  }
  return verdict('pass')
}
