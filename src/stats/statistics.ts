/**
 * Statistics over plain numbers: quantiles, the Mann–Whitney U test with Cliff's delta as its
 * effect size, the Hodges–Lehmann shift and a seeded bootstrap confidence interval.
 * Pure: no I/O, no clock; the bootstrap takes its seed.
 */
import { seededRandom } from '../core/index.js'

/** Quantile with linear interpolation between closest ranks (R's type 7). `sorted` ascending. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q))
  const lower = Math.floor(position)
  const upper = Math.ceil(position)
  const low = sorted[lower]!
  return low + (sorted[upper]! - low) * (position - lower)
}

export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    q,
  )
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length
}

export type EffectMagnitude = 'negligible' | 'small' | 'medium' | 'large'

export interface MannWhitneyResult {
  /** U of the baseline sample: pairs where baseline > candidate, ties counting one half. */
  u: number
  n1: number
  n2: number
  /** Two-sided p-value. */
  pValue: number
  method: 'exact' | 'normal'
  /** Cliff's delta of candidate vs baseline, in [-1, 1]: P(candidate > baseline) - P(candidate < baseline). */
  cliffsDelta: number
  magnitude: EffectMagnitude
}

/**
 * Mann–Whitney U (Wilcoxon rank-sum) of a candidate sample against a baseline. Exact
 * p-values for small samples without ties; otherwise the normal approximation with tie and
 * continuity corrections.
 */
export function mannWhitneyU(baseline: readonly number[], candidate: readonly number[]): MannWhitneyResult {
  const n1 = baseline.length
  const n2 = candidate.length
  if (n1 === 0 || n2 === 0) throw new RangeError('Mann–Whitney U needs at least one value on each side')
  for (const value of [...baseline, ...candidate]) if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`)

  const pooled = [...baseline.map((value) => ({ value, group: 0 })), ...candidate.map((value) => ({ value, group: 1 }))].sort(
    (a, b) => a.value - b.value,
  )
  let rankSum1 = 0
  let tieTerm = 0
  for (let i = 0; i < pooled.length;) {
    let j = i
    while (j + 1 < pooled.length && pooled[j + 1]!.value === pooled[i]!.value) j++
    const averageRank = (i + j) / 2 + 1
    const size = j - i + 1
    if (size > 1) tieTerm += size ** 3 - size
    for (let k = i; k <= j; k++) if (pooled[k]!.group === 0) rankSum1 += averageRank
    i = j + 1
  }
  const u = rankSum1 - (n1 * (n1 + 1)) / 2
  const cliffsDelta = 1 - (2 * u) / (n1 * n2)
  const uSmall = Math.min(u, n1 * n2 - u)

  let pValue: number
  let method: MannWhitneyResult['method']
  if (tieTerm === 0 && n1 * n2 <= 2500 && n1 + n2 <= 120) {
    method = 'exact'
    pValue = Math.min(1, 2 * exactLowerTail(Math.round(uSmall), n1, n2))
  } else {
    method = 'normal'
    const n = n1 + n2
    const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)))
    if (variance <= 0) pValue = 1
    else {
      const z = (Math.abs(u - (n1 * n2) / 2) - 0.5) / Math.sqrt(variance)
      pValue = Math.min(1, 2 * (1 - normalCdf(Math.max(0, z))))
    }
  }
  return { u, n1, n2, pValue, method, cliffsDelta, magnitude: effectMagnitude(cliffsDelta) }
}

/** P(U <= u) under the null hypothesis, by counting arrangements (no ties). */
function exactLowerTail(u: number, n1: number, n2: number): number {
  // counts[m][k] = number of arrangements of m baseline and (current n) candidate values with U = k
  const maxU = n1 * n2
  let previous: number[][] = Array.from({ length: n1 + 1 }, (_, m) => (m === 0 ? [1] : [1]))
  // start: n = 0 candidate values: U is always 0
  for (let n = 1; n <= n2; n++) {
    const current: number[][] = [[1]]
    for (let m = 1; m <= n1; m++) {
      const size = m * n + 1
      const row = new Array<number>(size).fill(0)
      // the largest value is either a baseline value (adds n to U) or a candidate value (adds 0)
      const fromBaseline = current[m - 1]!
      const fromCandidate = previous[m]!
      for (let k = 0; k < size; k++) row[k] = (k - n >= 0 ? (fromBaseline[k - n] ?? 0) : 0) + (fromCandidate[k] ?? 0)
      current.push(row)
    }
    previous = current
  }
  const distribution = previous[n1]!
  let total = 0
  let tail = 0
  for (let k = 0; k <= maxU; k++) {
    const count = distribution[k] ?? 0
    total += count
    if (k <= u) tail += count
  }
  return tail / total
}

/** Romano et al.'s thresholds for Cliff's delta. */
export function effectMagnitude(delta: number): EffectMagnitude {
  const size = Math.abs(delta)
  if (size < 0.147) return 'negligible'
  if (size < 0.33) return 'small'
  if (size < 0.474) return 'medium'
  return 'large'
}

/** Standard normal CDF (Zelen & Severo 26.2.17, error < 7.5e-8). */
export function normalCdf(z: number): number {
  if (z < 0) return 1 - normalCdf(-z)
  const t = 1 / (1 + 0.2316419 * z)
  const density = Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI)
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))))
  return 1 - density * poly
}

/** Median of all pairwise differences candidate - baseline: a robust estimate of the shift. */
export function hodgesLehmannShift(baseline: readonly number[], candidate: readonly number[]): number {
  if (baseline.length === 0 || candidate.length === 0) return Number.NaN
  if (baseline.length * candidate.length > 1_000_000) return median(candidate) - median(baseline)
  const differences: number[] = []
  for (const b of candidate) for (const a of baseline) differences.push(b - a)
  return median(differences)
}

export interface BootstrapInterval {
  estimate: number
  low: number
  high: number
  confidence: number
}

/**
 * Percentile bootstrap of a two-sample statistic (by default the difference of medians,
 * candidate - baseline), resampling each side independently with a seeded generator.
 */
export function bootstrapInterval(
  baseline: readonly number[],
  candidate: readonly number[],
  options: {
    statistic?: (baseline: number[], candidate: number[]) => number
    iterations?: number
    confidence?: number
    seed?: number
  } = {},
): BootstrapInterval {
  const statistic = options.statistic ?? ((a: number[], b: number[]) => median(b) - median(a))
  return percentileBootstrap(
    (resample) => statistic(resample(baseline), resample(candidate)),
    statistic([...baseline], [...candidate]),
    options,
  )
}

/** Percentile bootstrap of a one-sample statistic (paired differences, say): resamples the values whole. */
export function bootstrapIntervalOfOne(
  values: readonly number[],
  statistic: (values: number[]) => number,
  options: { iterations?: number; confidence?: number; seed?: number } = {},
): BootstrapInterval {
  return percentileBootstrap((resample) => statistic(resample(values)), statistic([...values]), options)
}

function percentileBootstrap(
  draw: (resample: (values: readonly number[]) => number[]) => number,
  estimate: number,
  options: { iterations?: number; confidence?: number; seed?: number },
): BootstrapInterval {
  const iterations = options.iterations ?? 2000
  const confidence = options.confidence ?? 0.95
  const random = seededRandom(options.seed ?? 1)
  const resample = (values: readonly number[]) => Array.from({ length: values.length }, () => values[Math.floor(random() * values.length)]!)
  const estimates: number[] = []
  for (let i = 0; i < iterations; i++) estimates.push(draw(resample))
  estimates.sort((a, b) => a - b)
  const alpha = (1 - confidence) / 2
  return { estimate, low: quantileSorted(estimates, alpha), high: quantileSorted(estimates, 1 - alpha), confidence }
}
