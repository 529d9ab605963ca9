/**
 * The canary judge, the way Kayenta judges: each metric of the canary is compared with the same
 * metric of stable over the same window, with a test that says whether the difference is real
 * and an effect-size tolerance that says whether it matters; the step's verdict follows from the
 * metrics' verdicts. Pure: samples in, verdict out, with every number it used, so that the
 * rollout can print and record why it rolled back.
 *
 * - Latency: Mann–Whitney U on the raw samples (two-sided, significance `alpha`) and the
 *   Hodges–Lehmann shift relative to stable's median as the effect: fail only when the shift is
 *   significant AND worse than the tolerance (a canary 2% slower passes under a 5% tolerance).
 *   A `quantile` metric (p99, say) judges a tail instead: how often the canary exceeds stable's p99.
 * - Errors: a one-sided proportion test (Fisher's exact test on small counts), failing only when
 *   the canary's error rate is significantly higher AND higher by more than the tolerance.
 * - Too few samples on either side is "inconclusive", never a silent pass.
 */
import { verdict, type Verdict, type VerdictStatus } from '../core/index.js'
import { hodgesLehmannShift, mannWhitneyU, median, proportionTest, quantile } from '../stats/index.js'

interface MetricBase {
  name: string
  /** Its failure alone fails the step, whatever the others say. */
  critical?: boolean
}

export interface LatencyMetric extends MetricBase {
  kind: 'latency'
  /** Raw latency samples of the window, in milliseconds. */
  stable: readonly number[]
  canary: readonly number[]
  /** Largest acceptable relative slowdown of the canary, e.g. 0.05 for 5% (default). */
  tolerance?: number
  /**
   * Judge this tail (0.99 for p99) instead of the whole distribution: the share of canary requests
   * above stable's quantile against stable's own share; the tolerance is then relative to that
   * share (1 = the canary lands there twice as often; default for tails).
   */
  quantile?: number
}

export interface ErrorMetric extends MetricBase {
  kind: 'errors'
  stable: { errors: number; requests: number }
  canary: { errors: number; requests: number }
  /** Largest acceptable rise of the error rate, in absolute terms: 0.005 is half a percentage point (default). */
  tolerance?: number
}

export type JudgedMetric = LatencyMetric | ErrorMetric

export interface JudgeOptions {
  /**
   * Significance level of the step's verdict (default 0.01): each of the m metrics is tested at
   * alpha / m (Bonferroni), so that an identical canary is rolled back at most this often however
   * many metrics the analysis has.
   */
  alpha?: number
  /** Fewest latency samples (or requests, for errors) on each side for a verdict (default 100). */
  minSamples?: number
  /** Share of judged metrics (pass + fail) that must pass, in percent (default 100: any failing metric fails the step). */
  passScore?: number
}

export const JUDGE_DEFAULTS = {
  alpha: 0.01,
  minSamples: 100,
  passScore: 100,
  latencyTolerance: 0.05,
  tailTolerance: 1,
  errorTolerance: 0.005,
} as const

export interface MetricJudgement {
  name: string
  kind: JudgedMetric['kind']
  status: Exclude<VerdictStatus, 'invalid'>
  critical: boolean
  /** One line saying why, with the numbers. */
  reason: string
  stableCount: number
  canaryCount: number
  /** Stable's and the canary's value of what is compared: median or quantile (ms), or error rate. */
  stableValue?: number
  canaryValue?: number
  /** The estimated effect: relative slowdown (0.2 = 20% slower) or error-rate difference. */
  effect?: number
  tolerance: number
  pValue?: number
  /** How the p-value or interval was obtained. */
  method?: string
  /** Latency: Cliff's delta of canary vs stable, in [-1, 1]. */
  cliffsDelta?: number
}

export interface CanaryJudgement {
  metrics: MetricJudgement[]
  /** Passing share of the metrics that could be judged, in percent; undefined when none could. */
  score: number | undefined
  passScore: number
  /** The step's significance level, and each metric's (alpha / number of metrics). */
  alpha: number
  alphaPerMetric: number
  minSamples: number
}

export function judgeCanary(metrics: readonly JudgedMetric[], options: JudgeOptions = {}): Verdict<CanaryJudgement> {
  const alpha = options.alpha ?? JUDGE_DEFAULTS.alpha
  const minSamples = options.minSamples ?? JUDGE_DEFAULTS.minSamples
  const passScore = options.passScore ?? JUDGE_DEFAULTS.passScore
  const perMetric = alpha / Math.max(1, metrics.length)
  const judged = metrics.map((metric) =>
    metric.kind === 'latency' ? judgeLatency(metric, perMetric, minSamples) : judgeErrors(metric, perMetric, minSamples),
  )
  const passed = judged.filter((metric) => metric.status === 'pass').length
  const failed = judged.filter((metric) => metric.status === 'fail')
  const decided = passed + failed.length
  const score = decided === 0 ? undefined : (passed / decided) * 100
  const evidence: CanaryJudgement = { metrics: judged, score, passScore, alpha, alphaPerMetric: perMetric, minSamples }
  const criticalFailure = failed.find((metric) => metric.critical)
  if (criticalFailure)
    return verdict(
      'fail',
      failed.map((metric) => `${metric.name}: ${metric.reason}`),
      { evidence },
    )
  if (score === undefined)
    return verdict(
      'inconclusive',
      judged.map((metric) => `${metric.name}: ${metric.reason}`),
      { evidence, hint: 'Wait for more traffic in the window, or drive synthetic traffic at both versions (a load scenario).' },
    )
  if (score < passScore)
    return verdict(
      'fail',
      failed.map((metric) => `${metric.name}: ${metric.reason}`),
      { evidence },
    )
  const inconclusive = judged.filter((metric) => metric.status === 'inconclusive')
  // a pass with metrics left unjudged says so: the rollout decides whether that is enough
  return verdict(
    inconclusive.length > 0 ? 'inconclusive' : 'pass',
    (inconclusive.length > 0 ? inconclusive : judged).map((metric) => `${metric.name}: ${metric.reason}`),
    { evidence },
  )
}

function judgeLatency(metric: LatencyMetric, alpha: number, minSamples: number): MetricJudgement {
  const tolerance = metric.tolerance ?? (metric.quantile === undefined ? JUDGE_DEFAULTS.latencyTolerance : JUDGE_DEFAULTS.tailTolerance)
  const base = {
    name: metric.name,
    kind: 'latency' as const,
    critical: metric.critical ?? false,
    stableCount: metric.stable.length,
    canaryCount: metric.canary.length,
    tolerance,
  }
  const short = shortSide(metric.stable.length, metric.canary.length, minSamples, 'samples')
  if (short) return { ...base, status: 'inconclusive', reason: short }
  if (metric.quantile !== undefined) return judgeQuantile(metric, metric.quantile, base, alpha)

  const stableMedian = median(metric.stable)
  const canaryMedian = median(metric.canary)
  const test = mannWhitneyU(metric.stable, metric.canary)
  const shift = hodgesLehmannShift(metric.stable, metric.canary)
  const effect = stableMedian > 0 ? shift / stableMedian : shift > 0 ? Infinity : 0
  const significant = test.pValue < alpha
  const numbers =
    `median ${ms(canaryMedian)} vs ${ms(stableMedian)} (shift ${signedPercent(effect)}, tolerance ${percent(tolerance)}), ` +
    `Mann–Whitney p=${formatP(test.pValue)}, Cliff's δ=${test.cliffsDelta.toFixed(2)} (n=${metric.canary.length}/${metric.stable.length})`
  const status = significant && effect > tolerance ? 'fail' : 'pass'
  const why =
    status === 'fail' ? 'slower' : significant && effect < 0 ? 'faster' : significant ? 'within tolerance' : 'no significant difference'
  return {
    ...base,
    status,
    reason: `${why}: ${numbers}`,
    stableValue: stableMedian,
    canaryValue: canaryMedian,
    effect,
    pValue: test.pValue,
    method: `Mann–Whitney U (${test.method}), two-sided, alpha ${alpha}`,
    cliffsDelta: test.cliffsDelta,
  }
}

function judgeQuantile(metric: LatencyMetric, q: number, base: Omit<MetricJudgement, 'status' | 'reason'>, alpha: number): MetricJudgement {
  const label = `p${+(q * 100).toFixed(2)}`
  const stableValue = quantile(metric.stable, q)
  const canaryValue = quantile(metric.canary, q)
  // A tail is judged by how often each side exceeds stable's own quantile: stable does (1 - q) of
  // the time by construction; a canary with a slower tail does more often. A proportion test on
  // those counts stays sound on thin windows, where a quantile estimated from a few hundred
  // samples (and its bootstrap) swings too much to judge.
  const above = (values: readonly number[]) => values.reduce((count, value) => count + (value > stableValue ? 1 : 0), 0)
  const stableAbove = above(metric.stable)
  const canaryAbove = above(metric.canary)
  const test = proportionTest({ events: stableAbove, total: metric.stable.length }, { events: canaryAbove, total: metric.canary.length })
  const expected = test.baselineRate
  // the effect: how many times more often the canary lands in stable's tail, minus one
  const effect = expected > 0 ? test.candidateRate / expected - 1 : test.candidateRate > 0 ? Infinity : 0
  const status = test.pValue < alpha && effect > base.tolerance ? 'fail' : 'pass'
  const numbers =
    `${label} ${ms(canaryValue)} vs ${ms(stableValue)}; ${percent(test.candidateRate)} of canary requests above stable's ${label} ` +
    `against ${percent(expected)} of stable's (${effect === Infinity ? 'from none' : `${signedPercent(effect)}`}, tolerance ${percent(base.tolerance)}), ` +
    `${test.method === 'fisher' ? "Fisher's exact" : 'two-proportion z'} p=${formatP(test.pValue)} (n=${metric.canary.length}/${metric.stable.length})`
  return {
    ...base,
    status,
    reason: `${status === 'fail' ? 'slower tail' : test.pValue < alpha ? 'within tolerance' : 'no significant difference'}: ${numbers}`,
    stableValue,
    canaryValue,
    effect,
    pValue: test.pValue,
    method: `share of requests above stable's ${label}, ${test.method === 'fisher' ? "Fisher's exact test" : 'two-proportion z-test'}, one-sided, alpha ${alpha}`,
  }
}

function judgeErrors(metric: ErrorMetric, alpha: number, minSamples: number): MetricJudgement {
  const tolerance = metric.tolerance ?? JUDGE_DEFAULTS.errorTolerance
  const base = {
    name: metric.name,
    kind: 'errors' as const,
    critical: metric.critical ?? false,
    stableCount: metric.stable.requests,
    canaryCount: metric.canary.requests,
    tolerance,
  }
  const short = shortSide(metric.stable.requests, metric.canary.requests, minSamples, 'requests')
  if (short) return { ...base, status: 'inconclusive', reason: short }
  const test = proportionTest(
    { events: metric.stable.errors, total: metric.stable.requests },
    { events: metric.canary.errors, total: metric.canary.requests },
  )
  const significant = test.pValue < alpha
  const status = significant && test.difference > tolerance ? 'fail' : 'pass'
  const numbers =
    `error rate ${percent(test.candidateRate)} vs ${percent(test.baselineRate)} (${signedPoints(test.difference)}, tolerance ${points(tolerance)}), ` +
    `${test.method === 'fisher' ? "Fisher's exact" : 'two-proportion z'} p=${formatP(test.pValue)} ` +
    `(${metric.canary.errors}/${metric.canary.requests} vs ${metric.stable.errors}/${metric.stable.requests})`
  const why = status === 'fail' ? 'more errors' : significant ? 'within tolerance' : 'no significant difference'
  return {
    ...base,
    status,
    reason: `${why}: ${numbers}`,
    stableValue: test.baselineRate,
    canaryValue: test.candidateRate,
    effect: test.difference,
    pValue: test.pValue,
    method: `${test.method === 'fisher' ? "Fisher's exact test" : 'two-proportion z-test'}, one-sided, alpha ${alpha}`,
  }
}

function shortSide(stable: number, canary: number, minimum: number, unit: string): string | undefined {
  if (stable >= minimum && canary >= minimum) return undefined
  return `too few ${unit} to judge: ${canary} from the canary and ${stable} from stable, at least ${minimum} each needed`
}

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)}ms`
const percent = (value: number) => `${+(value * 100).toFixed(2)}%`
const signedPercent = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`
const points = (value: number) => `${+(value * 100).toFixed(2)} points`
const signedPoints = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(2)} points`
const formatP = (p: number) => (p < 0.0001 ? '<0.0001' : p.toFixed(4))
