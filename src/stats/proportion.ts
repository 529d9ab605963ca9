import { normalCdf } from './statistics.js'

export interface ProportionTestResult {
  baselineRate: number
  candidateRate: number
  /** candidate rate - baseline rate. */
  difference: number
  /** One-sided p-value of "the candidate's rate is higher than the baseline's". */
  pValue: number
  method: 'fisher' | 'normal'
}

/**
 * Is the candidate's proportion (errors per request) higher than the baseline's? Fisher's exact
 * test when an expected count is small (the normal approximation misleads there: 0 errors in 40
 * requests against 2 in 10,000 is no evidence), else the pooled two-proportion z-test. One-sided,
 * because a canary with fewer errors is never a reason to roll back.
 */
export function proportionTest(
  baseline: { events: number; total: number },
  candidate: { events: number; total: number },
): ProportionTestResult {
  for (const side of [baseline, candidate]) {
    if (!Number.isInteger(side.events) || !Number.isInteger(side.total) || side.events < 0 || side.total < side.events)
      throw new RangeError(`not a count of events out of a total: ${side.events}/${side.total}`)
  }
  const baselineRate = baseline.total === 0 ? 0 : baseline.events / baseline.total
  const candidateRate = candidate.total === 0 ? 0 : candidate.events / candidate.total
  const base = { baselineRate, candidateRate, difference: candidateRate - baselineRate }
  if (baseline.total === 0 || candidate.total === 0) return { ...base, pValue: 1, method: 'normal' }
  const total = baseline.total + candidate.total
  const events = baseline.events + candidate.events
  const expected = Math.min(
    (events * baseline.total) / total,
    (events * candidate.total) / total,
    ((total - events) * baseline.total) / total,
    ((total - events) * candidate.total) / total,
  )
  if (expected < 5) return { ...base, pValue: fisherUpperTail(candidate.events, candidate.total, events, total), method: 'fisher' }
  const pooled = events / total
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / baseline.total + 1 / candidate.total))
  const z = standardError === 0 ? 0 : (candidateRate - baselineRate) / standardError
  return { ...base, pValue: 1 - normalCdf(z), method: 'normal' }
}

/** P(X >= observed) for X hypergeometric: `draws` from `population` holding `successes`. */
function fisherUpperTail(observed: number, draws: number, successes: number, population: number): number {
  const low = Math.max(0, draws + successes - population)
  const high = Math.min(draws, successes)
  const logDenominator = logChoose(population, draws)
  let tail = 0
  for (let k = Math.max(observed, low); k <= high; k++) {
    tail += Math.exp(logChoose(successes, k) + logChoose(population - successes, draws - k) - logDenominator)
  }
  return Math.min(1, tail)
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k)
}

const smallLogFactorials: number[] = [0]
function logFactorial(n: number): number {
  if (n < 256) {
    for (let i = smallLogFactorials.length; i <= n; i++) smallLogFactorials.push(smallLogFactorials[i - 1]! + Math.log(i))
    return smallLogFactorials[n]!
  }
  // Stirling's series: exact to double precision from 256 on
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n ** 3)
}
