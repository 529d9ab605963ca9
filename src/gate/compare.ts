/**
 * The gate's noise-aware comparison of repeated load runs with a stored baseline. Pure.
 *
 * The unit is the run, not the second: seconds of one run share the machine's state of that
 * moment (another job on the CPU, a cold cache) and pooled together they make a transient look
 * significant. Each side has several runs; per metric:
 *   1. runs whose values are wholly apart by more than the tolerance decide at once (regressed or
 *      improved), however noisy each side is;
 *   2. otherwise, a side whose runs disagree with each other (robust coefficient of variation,
 *      1.4826 × MAD / median, above maxSpread; maxTailSpread for p90 and p99, which rest on a
 *      tenth of the requests) makes the metric "noisy": the machine cannot decide,
 *      and the gate says "invalid measurement" instead of guessing;
 *   3. otherwise the Mann–Whitney U test (exact for small samples) at the configured confidence,
 *      Cliff's delta of at least minEffect and a Hodges–Lehmann shift of at least the tolerance
 *      make it regressed (or improved);
 *   4. a shift beyond the tolerance for the worse that the test cannot confirm is inconclusive,
 *      never a pass: 3+3 runs, say, can never reach p < 0.05, and a spike in one baseline run
 *      must not let a large regression through; anything less is unchanged.
 * The change is stated with a bootstrap interval of the change of the median, the p-value and
 * Cliff's delta, so a reader sees the effect size and the confidence, not only a percentage.
 *
 * Side by side (gate.reference) the runs come in pairs, a reference run next to each run under
 * test (R C C R …), and the comparison is paired: each run's ratio to its neighbour, so that what
 * drifts over the minutes of a check (a cold process warming up, another job on the machine)
 * falls out instead of widening both sides. Rules 1–4 apply to the ratios: every pair beyond the
 * tolerance the same way decides; ratios that disagree with each other make the metric noisy;
 * otherwise the Wilcoxon signed-rank test, the matched-pairs rank-biserial correlation and the
 * Hodges–Lehmann estimate of the ratio decide (6 pairs are the fewest that can reach p < 0.05).
 */
import { verdict, type Verdict } from '../core/index.js'
import {
  bootstrapInterval,
  bootstrapIntervalOfOne,
  hodgesLehmannCenter,
  hodgesLehmannShift,
  mannWhitneyU,
  median,
  smallestSignedRankP,
  wilcoxonSignedRank,
  type EffectMagnitude,
} from '../stats/index.js'

export type RunMetric = 'p50' | 'p90' | 'p99' | 'rps' | 'error_rate'

/** What one load run leaves in a baseline: enough to compare, nothing like a histogram. */
export interface RunSummary {
  requests: number
  rps: number
  /** Milliseconds. */
  p50: number
  p90: number
  p99: number
  errorRate: number
}

export interface RegressionRules {
  metrics: RunMetric[]
  /** Relative change of p50 or rps that counts (0.1 = 10%). */
  tolerance: number
  /** The same for the tail percentiles (p90, p99), which move more from run to run. */
  tailTolerance: number
  /** The error rate's, in points (0.01 = 1 percentage point). */
  errorRateTolerance: number
  /** Significance level of the two-sided test (1 - confidence). */
  alpha: number
  /** Robust coefficient of variation of one side's runs (paired: of the pairs' ratios) above which the metric is too noisy to judge. */
  maxSpread: number
  /** The same for the tail percentiles: a run's p90 rests on a tenth of its requests and spreads more, as its tolerance allows. */
  maxTailSpread: number
  /** Smallest |Cliff's delta| that counts. */
  minEffect: number
  /**
   * CPU pressure (share of time some task waited for a CPU, Linux PSI) above which a side was
   * measured on a machine busy with other work: every run of that side shifts alike, which no
   * test over runs can see, so the comparison is an invalid measurement.
   */
  maxCpuPressure: number
  seed: number
}

export const DEFAULT_RULES: RegressionRules = {
  metrics: ['p50', 'p90'],
  tolerance: 0.1,
  tailTolerance: 0.2,
  errorRateTolerance: 0.01,
  alpha: 0.05,
  maxSpread: 0.25,
  maxTailSpread: 0.5,
  minEffect: 0.6,
  maxCpuPressure: 0.3,
  seed: 1,
}

export type MetricStatus = 'regressed' | 'improved' | 'unchanged' | 'noisy' | 'inconclusive'

export interface SideStats {
  runs: number
  median: number
  /** Robust coefficient of variation of the runs (absolute MAD for error_rate). */
  spread: number
  values: number[]
}

/** Independent samples (a stored baseline), or pairs of runs measured next to each other (side by side). */
export type ComparisonDesign = 'independent' | 'paired'

export interface MetricJudgement {
  metric: RunMetric
  better: 'lower' | 'higher'
  design: ComparisonDesign
  test: 'mann-whitney' | 'wilcoxon-signed-rank'
  baseline: SideStats
  current: SideStats
  /** Paired: the robust spread of the pairs' ratios (differences in points for error_rate). */
  pairSpread?: number
  /** Hodges–Lehmann shift over the baseline median (0.2 = +20%); error_rate: in points / 100. */
  change: number
  interval: { low: number; high: number; confidence: number }
  pValue: number
  /** Cliff's delta (independent) or the matched-pairs rank-biserial correlation (paired), in [-1, 1]. */
  effectSize: number
  effectName: "Cliff's δ" | 'rank-biserial r'
  magnitude: EffectMagnitude
  tolerance: number
  /** Every current run beyond every baseline run (paired: beyond its own reference run) by more than the tolerance. */
  separated: boolean
  status: MetricStatus
  explanation: string
}

export interface RegressionJudgement {
  metrics: MetricJudgement[]
  /** CPU pressure over each side's runs, when the platform reports it. */
  cpuPressure: { baseline?: number; current?: number }
  verdict: Verdict<{ metrics: MetricJudgement[] }>
}

const BETTER: Record<RunMetric, 'lower' | 'higher'> = { p50: 'lower', p90: 'lower', p99: 'lower', rps: 'higher', error_rate: 'lower' }

export interface ComparisonOptions {
  /** CPU pressure over each side's runs (stored baseline design). */
  cpuPressure?: { baseline?: number | undefined; current?: number | undefined }
  /** baseline[i] and current[i] were measured next to each other. */
  design?: ComparisonDesign
}

export function compareRuns(
  baseline: readonly RunSummary[],
  current: readonly RunSummary[],
  rules: RegressionRules = DEFAULT_RULES,
  options: ComparisonOptions = {},
): RegressionJudgement {
  const cpuPressure = options.cpuPressure ?? {}
  const metrics = rules.metrics.map((metric) =>
    judgeMetric(
      metric,
      baseline.map((run) => valueOf(run, metric)),
      current.map((run) => valueOf(run, metric)),
      rules,
      options.design,
    ),
  )
  const regressed = metrics.filter((metric) => metric.status === 'regressed')
  const noisy = metrics.filter((metric) => metric.status === 'noisy')
  const undecided = metrics.filter((metric) => metric.status === 'inconclusive')
  const evidence = { metrics }
  const busy = (['baseline', 'current'] as const).filter((side) => (cpuPressure[side] ?? 0) > rules.maxCpuPressure)
  const pressure = Object.fromEntries(
    Object.entries(cpuPressure).filter((entry): entry is [string, number] => entry[1] !== undefined),
  ) as RegressionJudgement['cpuPressure']
  if (busy.length > 0) {
    const reasons = busy.map(
      (side) =>
        `the machine was busy with other work during the ${side} runs: some task waited for a CPU ${Math.round(cpuPressure[side]! * 100)}% of the time (limit ${Math.round(rules.maxCpuPressure * 100)}%), which shifts every run of that side alike`,
    )
    return {
      metrics,
      cpuPressure: pressure,
      verdict: verdict('invalid', reasons, {
        hint: 'Run the gate where nothing else competes for the CPU (a dedicated runner, fewer parallel jobs), or raise regression.maxCpuPressure knowingly.',
        evidence,
      }),
    }
  }
  const result =
    regressed.length > 0
      ? verdict(
          'fail',
          regressed.map((metric) => `regressed: ${metric.explanation}`),
          {
            hint: 'Profile the change (opsctl profile diff), or accept it with opsctl gate --update-baseline.',
            evidence,
          },
        )
      : noisy.length > 0
        ? verdict(
            'invalid',
            noisy.map((metric) => `too noisy to decide: ${metric.explanation}`),
            {
              hint:
                options.design === 'paired'
                  ? 'The pairs of runs disagree with each other: run the gate on a quieter machine, with more runs.'
                  : 'The runs of one side disagree with each other: run the gate on a quieter machine, with more or longer runs.',
              evidence,
            },
          )
        : undecided.length > 0
          ? verdict(
              'inconclusive',
              undecided.map((metric) => `cannot decide: ${metric.explanation}`),
              {
                hint: 'Give regression.runs more runs (at least 4 a side, 6 pairs side by side, can reach 95% confidence; 8 or more outvote a spike), or run the gate on a quieter machine.',
                evidence,
              },
            )
          : verdict('pass', [], { evidence })
  return { metrics, cpuPressure: pressure, verdict: result }
}

export function toleranceOf(metric: RunMetric, rules: RegressionRules): number {
  return metric === 'error_rate' ? rules.errorRateTolerance : isTail(metric) ? rules.tailTolerance : rules.tolerance
}

/** How far a metric's runs (or pairs) may disagree before it is too noisy to judge. */
export function spreadLimitOf(metric: RunMetric, rules: RegressionRules): number {
  return isTail(metric) ? rules.maxTailSpread : rules.maxSpread
}

/** p90 and p99 rest on a tenth of a run's requests or fewer: wider tolerance, wider spread. */
function isTail(metric: RunMetric): boolean {
  return metric === 'p90' || metric === 'p99'
}

function valueOf(run: RunSummary, metric: RunMetric): number {
  return metric === 'error_rate' ? run.errorRate : run[metric]
}

export function judgeMetric(
  metric: RunMetric,
  a: number[],
  b: number[],
  rules: RegressionRules,
  design: ComparisonDesign = 'independent',
): MetricJudgement {
  if (design === 'paired' && a.length !== b.length)
    throw new RangeError(`a paired comparison needs as many reference runs as runs (${a.length} and ${b.length})`)
  const better = BETTER[metric]
  const absolute = metric === 'error_rate'
  const tolerance = toleranceOf(metric, rules)
  const base = sideStats(a, absolute)
  const cur = sideStats(b, absolute)
  const measured =
    design === 'paired' ? pairedEvidence(a, b, tolerance, absolute, rules) : independentEvidence(a, b, tolerance, absolute, rules)
  const { change, interval, pValue, effectSize, separated, smallestP } = measured
  const worse = better === 'lower' ? change > 0 : change < 0
  const significant = pValue < rules.alpha && Math.abs(effectSize) >= rules.minEffect && Math.abs(change) >= tolerance
  const spreadLimit = spreadLimitOf(metric, rules)
  const noisy = measured.spreads.some((spread) => spread > spreadLimit)
  const status: MetricStatus =
    separated || (!noisy && significant)
      ? worse
        ? 'regressed'
        : 'improved'
      : noisy
        ? 'noisy'
        : worse && Math.abs(change) >= tolerance
          ? 'inconclusive'
          : 'unchanged'

  const format = (value: number) =>
    absolute ? `${value >= 0 ? '+' : ''}${(value * 100).toFixed(2)} pp` : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`
  const p = pValue < 0.001 ? 'p < 0.001' : `p = ${pValue.toFixed(3)}`
  const level = `${Math.round(interval.confidence * 100)}%`
  const spreadText = (spread: number) => (absolute ? `±${(spread * 100).toFixed(2)} pp` : `±${(spread * 100).toFixed(0)}%`)
  const limit = absolute ? `${(spreadLimit * 100).toFixed(2)} pp` : `${(spreadLimit * 100).toFixed(0)}%`
  const runs = design === 'paired' ? `${a.length} pairs of runs` : `${a.length}+${b.length} runs`
  const why =
    status === 'noisy'
      ? design === 'paired'
        ? ` — the pairs disagree: their ${absolute ? 'differences' : 'ratios'} spread ${spreadText(measured.spreads[0]!)}, limit ${limit}`
        : ` — runs disagree: spread ${spreadText(base.spread)} baseline, ${spreadText(cur.spread)} current, limit ${limit}`
      : status === 'unchanged'
        ? ` — within tolerance ${format(tolerance).replace('+', '±')}`
        : status === 'inconclusive'
          ? ` — beyond the tolerance ${format(tolerance).replace('+', '±')}, but not confirmed at ${level} confidence${smallestP >= rules.alpha ? ` (${runs} can never reach it: the smallest p-value they give is ${smallestP.toFixed(3)})` : ''}`
          : separated && !significant
            ? design === 'paired'
              ? ' — every run beyond its reference run by more than the tolerance'
              : ' — every run beyond the tolerance'
            : ''
  const test = design === 'paired' ? 'Wilcoxon signed-rank' : 'Mann–Whitney'
  const effectName = design === 'paired' ? 'rank-biserial r' : "Cliff's δ"
  return {
    metric,
    better,
    design,
    test: design === 'paired' ? 'wilcoxon-signed-rank' : 'mann-whitney',
    baseline: base,
    current: cur,
    ...(design === 'paired' ? { pairSpread: measured.spreads[0]! } : {}),
    change,
    interval: { low: interval.low, high: interval.high, confidence: interval.confidence },
    pValue,
    effectSize,
    effectName,
    magnitude: measured.magnitude,
    tolerance,
    separated,
    status,
    explanation: `${metric} ${describeValue(base.median, metric)} → ${describeValue(cur.median, metric)}: ${format(change)} (${level} CI ${format(interval.low)} … ${format(interval.high)}), ${test} ${p}, ${effectName} ${effectSize.toFixed(2)} (${measured.magnitude}), ${runs}${why}`,
  }
}

interface Evidence {
  change: number
  interval: { low: number; high: number; confidence: number }
  pValue: number
  effectSize: number
  magnitude: EffectMagnitude
  separated: boolean
  /** Spreads that must stay within maxSpread: each side's (independent), the pairs' ratios' (paired). */
  spreads: number[]
  /** The smallest p-value this many runs can give. */
  smallestP: number
}

function independentEvidence(a: number[], b: number[], tolerance: number, absolute: boolean, rules: RegressionRules): Evidence {
  const relativeTo = (from: number, difference: number) =>
    absolute ? difference : from === 0 ? (difference === 0 ? 0 : Math.sign(difference)) : difference / from
  const interval = bootstrapInterval(a, b, {
    statistic: (x, y) => relativeTo(median(x), median(y) - median(x)),
    iterations: 2000,
    confidence: 1 - rules.alpha,
    seed: rules.seed,
  })
  const test = mannWhitneyU(a, b)
  return {
    change: relativeTo(median(a), hodgesLehmannShift(a, b)),
    interval,
    pValue: test.pValue,
    effectSize: test.cliffsDelta,
    magnitude: test.magnitude,
    separated: isSeparated(a, b, tolerance, absolute),
    spreads: [sideStats(a, absolute).spread, sideStats(b, absolute).spread],
    smallestP: smallestPValue(a.length, b.length),
  }
}

/**
 * Each pair as one number: the log of the run's ratio to its reference run (the difference in
 * points for error rates, which can be zero). Logs make a slowdown and the matching speed-up
 * symmetric; the change is reported back as a ratio.
 */
function pairedEvidence(a: number[], b: number[], tolerance: number, absolute: boolean, rules: RegressionRules): Evidence {
  const positive = !absolute && a.every((value) => value > 0) && b.every((value) => value > 0)
  const differences = a.map((value, i) => (positive ? Math.log(b[i]! / value) : b[i]! - value))
  const back = (d: number) => (positive ? Math.exp(d) - 1 : absolute ? d : d / (median(a) || 1))
  const interval = bootstrapIntervalOfOne(differences, (values) => back(median(values)), {
    iterations: 2000,
    confidence: 1 - rules.alpha,
    seed: rules.seed,
  })
  const test = wilcoxonSignedRank(differences)
  const center = median(differences)
  const spread = (1.4826 * median(differences.map((d) => Math.abs(d - center)))) / (positive || absolute ? 1 : Math.abs(median(a)) || 1)
  const beyond = (direction: 1 | -1) => differences.every((d) => direction * back(d) > tolerance)
  return {
    change: back(hodgesLehmannCenter(differences)),
    interval,
    pValue: test.pValue,
    effectSize: test.rankBiserial,
    magnitude: test.magnitude,
    separated: beyond(1) || beyond(-1),
    spreads: [spread],
    smallestP: smallestSignedRankP(a.length),
  }
}

/** The exact two-sided Mann–Whitney p-value of two samples wholly apart: no test of n+m runs goes lower. */
function smallestPValue(n: number, m: number): number {
  let arrangements = 1
  for (let i = 1; i <= n; i++) arrangements = (arrangements * (m + i)) / i
  return Math.min(1, 2 / arrangements)
}

function describeValue(value: number, metric: RunMetric): string {
  if (metric === 'error_rate') return `${(value * 100).toFixed(2)}%`
  if (metric === 'rps') return `${value.toFixed(1)} rps`
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)}ms`
}

/** Robust spread of one side: 1.4826 × MAD over the median (absolute MAD for rates in points). */
export function sideStats(values: number[], absolute = false): SideStats {
  const center = median(values)
  const mad = 1.4826 * median(values.map((value) => Math.abs(value - center)))
  const spread = absolute ? mad : center === 0 ? (mad === 0 ? 0 : Number.POSITIVE_INFINITY) : mad / Math.abs(center)
  return { runs: values.length, median: center, spread, values }
}

/** Either direction counts: a clear improvement is decided too. */
function isSeparated(a: number[], b: number[], tolerance: number, absolute: boolean): boolean {
  const beyond = (from: number, direction: 1 | -1) => (absolute ? from + direction * tolerance : from * (1 + direction * tolerance))
  return Math.min(...b) > beyond(Math.max(...a), 1) || Math.max(...b) < beyond(Math.min(...a), -1)
}
