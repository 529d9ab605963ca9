/**
 * Is the current result a regression of the baseline? Not a percentage of two numbers: each
 * metric is compared on its per-second samples across all runs of each side (the median and the
 * p99 latency of every second, the throughput in the closed model, the error rate) with the
 * Mann–Whitney U test, Cliff's delta as the effect size and a bootstrap interval of the change.
 * A change counts only when it is significant, at least a medium effect, and at least
 * `minChange` large. Pure.
 */
import { bootstrapInterval, mannWhitneyU, median, type EffectMagnitude } from '../stats/index.js'

export type Verdict = 'regressed' | 'improved' | 'no significant change' | 'inconclusive'

export type ComparedMetric = 'p50' | 'p99' | 'rps' | 'error_rate'

export interface MetricComparison {
  metric: ComparedMetric
  better: 'lower' | 'higher'
  baseline: { samples: number; median: number }
  current: { samples: number; median: number }
  /** Relative change of the median (0.3 = +30%); for error_rate, the change in percentage points / 100. */
  change: number
  interval: { low: number; high: number; confidence: number }
  pValue: number
  cliffsDelta: number
  magnitude: EffectMagnitude
  verdict: Verdict
  explanation: string
}

export interface CompareOptions {
  /** Significance level of the two-sided test. */
  alpha: number
  /** Smallest change that matters: relative for latency and throughput, absolute for the error rate. */
  minChange: number
  minErrorRateChange: number
  /** Smallest |Cliff's delta| that matters (0.33 is a medium effect). */
  minEffect: number
  /** Fewer per-second samples than this on either side gives "inconclusive". */
  minSamples: number
  seed: number
}

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = {
  alpha: 0.01,
  minChange: 0.05,
  minErrorRateChange: 0.01,
  minEffect: 0.33,
  minSamples: 5,
  seed: 1,
}

export interface Comparison {
  verdict: Verdict
  samples: 'per-second'
  baseline: { name: string; startedAt: string; runs: number }
  metrics: MetricComparison[]
  options: CompareOptions
  /** One line: the verdict and the change that decided it. */
  explanation: string
}

/** The parts of a result a comparison reads (a result file from an older version still has them). */
export interface ComparableResult {
  name: string
  model: 'open' | 'closed'
  startedAt: string
  runs: Array<{
    series: Array<{ requests: number; failed: number; rps: number; p50: number | null; p99: number | null; partial?: boolean }>
  }>
}

export function compareResults(baseline: ComparableResult, current: ComparableResult, overrides: Partial<CompareOptions> = {}): Comparison {
  const options = { ...DEFAULT_COMPARE_OPTIONS, ...overrides }
  const metrics: MetricComparison[] = []
  metrics.push(
    compareMetric(
      'p50',
      'lower',
      samplesOf(baseline, (s) => s.p50),
      samplesOf(current, (s) => s.p50),
      options,
    ),
  )
  metrics.push(
    compareMetric(
      'p99',
      'lower',
      samplesOf(baseline, (s) => s.p99),
      samplesOf(current, (s) => s.p99),
      options,
    ),
  )
  if (baseline.model === 'closed' && current.model === 'closed') {
    metrics.push(
      compareMetric(
        'rps',
        'higher',
        samplesOf(baseline, (s) => s.rps),
        samplesOf(current, (s) => s.rps),
        options,
      ),
    )
  }
  const baselineErrors = samplesOf(baseline, (s) => (s.requests > 0 ? s.failed / s.requests : null))
  const currentErrors = samplesOf(current, (s) => (s.requests > 0 ? s.failed / s.requests : null))
  if ([...baselineErrors, ...currentErrors].some((rate) => rate > 0))
    metrics.push(compareMetric('error_rate', 'lower', baselineErrors, currentErrors, options))

  const verdict: Verdict = metrics.some((m) => m.verdict === 'regressed')
    ? 'regressed'
    : metrics.some((m) => m.verdict === 'improved')
      ? 'improved'
      : metrics.every((m) => m.verdict === 'inconclusive')
        ? 'inconclusive'
        : 'no significant change'
  const deciding = metrics.find((m) => m.verdict === verdict) ?? metrics[0]!
  return {
    verdict,
    samples: 'per-second',
    baseline: { name: baseline.name, startedAt: baseline.startedAt, runs: baseline.runs.length },
    metrics,
    options,
    explanation: `${verdict}: ${deciding.explanation}`,
  }
}

/** Whole seconds with at least one completed request, from every run. */
function samplesOf(
  result: ComparableResult,
  pick: (second: ComparableResult['runs'][number]['series'][number]) => number | null,
): number[] {
  const values: number[] = []
  for (const run of result.runs) {
    for (const second of run.series) {
      if (second.partial || second.requests === 0) continue
      const value = pick(second)
      if (value !== null && Number.isFinite(value)) values.push(value)
    }
  }
  return values
}

export function compareMetric(
  metric: ComparedMetric,
  better: 'lower' | 'higher',
  baseline: number[],
  current: number[],
  options: CompareOptions,
): MetricComparison {
  const absolute = metric === 'error_rate'
  const baseMedian = median(baseline)
  const currentMedian = median(current)
  const base = { samples: baseline.length, median: baseMedian }
  const cur = { samples: current.length, median: currentMedian }
  if (baseline.length < options.minSamples || current.length < options.minSamples) {
    return {
      metric,
      better,
      baseline: base,
      current: cur,
      change: Number.NaN,
      interval: { low: Number.NaN, high: Number.NaN, confidence: 0.95 },
      pValue: Number.NaN,
      cliffsDelta: Number.NaN,
      magnitude: 'negligible',
      verdict: 'inconclusive',
      explanation: `${metric}: too few per-second samples (${baseline.length} baseline, ${current.length} current; at least ${options.minSamples} each) — run longer or with --runs`,
    }
  }
  const test = mannWhitneyU(baseline, current)
  const relative = (a: number[], b: number[]) => {
    const from = median(a)
    const difference = median(b) - from
    if (absolute) return difference
    return from === 0 ? (difference === 0 ? 0 : Math.sign(difference)) : difference / from
  }
  const interval = bootstrapInterval(baseline, current, { statistic: relative, iterations: 1000, seed: options.seed })
  const change = interval.estimate
  const worse = better === 'lower' ? change > 0 : change < 0
  const large = Math.abs(change) >= (absolute ? options.minErrorRateChange : options.minChange)
  const significant = test.pValue < options.alpha
  const effect = Math.abs(test.cliffsDelta) >= options.minEffect
  const verdict: Verdict = significant && effect && large ? (worse ? 'regressed' : 'improved') : 'no significant change'
  const format = (value: number) =>
    absolute ? `${value >= 0 ? '+' : ''}${(value * 100).toFixed(2)} pp` : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`
  const p = test.pValue < 0.001 ? 'p < 0.001' : `p = ${test.pValue.toFixed(3)}`
  const why =
    verdict !== 'no significant change'
      ? ''
      : !significant
        ? ' (not significant)'
        : !effect
          ? ' (effect too small)'
          : ' (change below the minimum)'
  return {
    metric,
    better,
    baseline: base,
    current: cur,
    change,
    interval: { low: interval.low, high: interval.high, confidence: interval.confidence },
    pValue: test.pValue,
    cliffsDelta: test.cliffsDelta,
    magnitude: test.magnitude,
    verdict,
    explanation: `${metric} ${format(change)} (95% CI ${format(interval.low)} … ${format(interval.high)}), Mann–Whitney ${p}, Cliff's δ ${test.cliffsDelta.toFixed(2)} (${test.magnitude})${why}`,
  }
}
