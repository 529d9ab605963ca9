/**
 * The Wilcoxon signed-rank test of paired differences, with the matched-pairs rank-biserial
 * correlation as its effect size and the Hodges–Lehmann estimate of the typical difference.
 * For runs measured in pairs (a reference run next to each run under test), it sees a shift
 * that drift over the minutes of a check would hide from a test of two independent samples.
 * Pure.
 */
import { effectMagnitude, median, normalCdf, type EffectMagnitude } from './statistics.js'

export interface SignedRankResult {
  /** Sum of the ranks of the positive differences. */
  wPlus: number
  /** Non-zero differences (zeros carry no sign and are dropped, Wilcoxon's method). */
  n: number
  /** Two-sided p-value. */
  pValue: number
  method: 'exact' | 'normal'
  /** (W+ − W−) / (W+ + W−), in [-1, 1]: 1 when every pair moved up. */
  rankBiserial: number
  magnitude: EffectMagnitude
}

export function wilcoxonSignedRank(differences: readonly number[]): SignedRankResult {
  for (const value of differences) if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`)
  const nonZero = differences.filter((value) => value !== 0).sort((a, b) => Math.abs(a) - Math.abs(b))
  const n = nonZero.length
  if (n === 0) return { wPlus: 0, n: 0, pValue: 1, method: 'exact', rankBiserial: 0, magnitude: 'negligible' }
  let wPlus = 0
  let tieTerm = 0
  for (let i = 0; i < n;) {
    let j = i
    while (j + 1 < n && Math.abs(nonZero[j + 1]!) === Math.abs(nonZero[i]!)) j++
    const averageRank = (i + j) / 2 + 1
    const size = j - i + 1
    if (size > 1) tieTerm += size ** 3 - size
    for (let k = i; k <= j; k++) if (nonZero[k]! > 0) wPlus += averageRank
    i = j + 1
  }
  const total = (n * (n + 1)) / 2
  const rankBiserial = (2 * wPlus) / total - 1
  const wSmall = Math.min(wPlus, total - wPlus)
  let pValue: number
  let method: SignedRankResult['method']
  if (tieTerm === 0 && n <= 60) {
    method = 'exact'
    pValue = Math.min(1, 2 * exactLowerTail(Math.round(wSmall), n))
  } else {
    method = 'normal'
    const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48
    const z = (Math.abs(wPlus - total / 2) - 0.5) / Math.sqrt(variance)
    pValue = variance <= 0 ? 1 : Math.min(1, 2 * (1 - normalCdf(Math.max(0, z))))
  }
  return { wPlus, n, pValue, method, rankBiserial, magnitude: effectMagnitude(rankBiserial) }
}

/** The smallest two-sided p-value n pairs can give (every pair the same way): 2 / 2^n. */
export function smallestSignedRankP(n: number): number {
  return Math.min(1, 2 / 2 ** n)
}

/** Median of the Walsh averages (dᵢ + dⱼ) / 2, i ≤ j: the estimate that goes with the test. */
export function hodgesLehmannCenter(differences: readonly number[]): number {
  if (differences.length === 0) return Number.NaN
  const averages: number[] = []
  for (let i = 0; i < differences.length; i++)
    for (let j = i; j < differences.length; j++) averages.push((differences[i]! + differences[j]!) / 2)
  return median(averages)
}

/** P(W+ ≤ w) under the null hypothesis: each of the 2^n sign patterns equally likely. */
function exactLowerTail(w: number, n: number): number {
  // counts[s] = sign patterns of the ranks so far whose positive ranks sum to s
  let counts = [1]
  for (let rank = 1; rank <= n; rank++) {
    const next = new Array<number>(counts.length + rank).fill(0)
    for (let s = 0; s < counts.length; s++) {
      next[s]! += counts[s]!
      next[s + rank]! += counts[s]!
    }
    counts = next
  }
  let tail = 0
  for (let s = 0; s <= w && s < counts.length; s++) tail += counts[s]!
  return tail / 2 ** n
}
