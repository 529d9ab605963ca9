import { describe, expect, it } from 'vitest'
import { bootstrapInterval, hodgesLehmannShift, mannWhitneyU, median, quantile } from '../../src/stats/index.js'
import { effectMagnitude, normalCdf } from '../../src/stats/statistics.js'
import { seededRandom } from '../../src/core/index.js'

function normalSample(n: number, mean: number, sd: number, seed: number): number[] {
  const random = seededRandom(seed)
  return Array.from({ length: n }, () => {
    // Box–Muller
    const u = 1 - random()
    const v = random()
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  })
}

describe('quantiles', () => {
  it('interpolates between ranks like R type 7', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile([10, 20, 30, 40, 50], 0.9)).toBeCloseTo(46)
    expect(quantile([3, 1, 2], 0)).toBe(1)
    expect(quantile([3, 1, 2], 1)).toBe(3)
    expect(median([5])).toBe(5)
    expect(Number.isNaN(median([]))).toBe(true)
  })
})

describe('Mann–Whitney U', () => {
  it("matches R's wilcox.test on its documented example (exact, two-sided)", () => {
    // R: x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46); y <- c(1.15, 0.88, 0.90, 0.74, 1.21)
    // wilcox.test(x, y) -> W = 35, p-value = 0.2544
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    const y = [1.15, 0.88, 0.9, 0.74, 1.21]
    const result = mannWhitneyU(x, y)
    expect(result.u).toBe(35)
    expect(result.method).toBe('exact')
    expect(result.pValue).toBeCloseTo(0.2544, 4)
  })

  it('gives the smallest exact p-value for completely separated samples', () => {
    const result = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    expect(result.u).toBe(0)
    expect(result.pValue).toBeCloseTo(2 / 252, 10)
    expect(result.cliffsDelta).toBe(1)
    expect(result.magnitude).toBe('large')
  })

  it('is symmetric: swapping the sides flips the effect, not the p-value', () => {
    const a = normalSample(30, 10, 2, 1)
    const b = normalSample(30, 11, 2, 2)
    const forward = mannWhitneyU(a, b)
    const backward = mannWhitneyU(b, a)
    expect(backward.pValue).toBeCloseTo(forward.pValue, 12)
    expect(backward.cliffsDelta).toBeCloseTo(-forward.cliffsDelta, 12)
  })

  it('handles ties with the normal approximation and finds nothing in identical samples', () => {
    const result = mannWhitneyU([1, 1, 2, 2, 3, 3], [1, 1, 2, 2, 3, 3])
    expect(result.method).toBe('normal')
    expect(result.pValue).toBeCloseTo(1, 6)
    expect(result.cliffsDelta).toBe(0)
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5]).pValue).toBe(1)
  })

  it('detects a shift in large samples and not in samples from the same distribution', () => {
    const baseline = normalSample(200, 20, 1, 3)
    expect(mannWhitneyU(baseline, normalSample(200, 20, 1, 4)).pValue).toBeGreaterThan(0.01)
    const shifted = mannWhitneyU(baseline, normalSample(200, 21, 1, 5))
    expect(shifted.method).toBe('normal')
    expect(shifted.pValue).toBeLessThan(1e-6)
    expect(shifted.cliffsDelta).toBeGreaterThan(0.33)
  })

  it('agrees between the exact and the normal method on mid-sized samples', () => {
    const a = normalSample(20, 10, 3, 6)
    const b = normalSample(20, 12, 3, 7)
    const exact = mannWhitneyU(a, b)
    expect(exact.method).toBe('exact')
    // the same data with one tie forces the normal approximation
    const tied = mannWhitneyU([...a.slice(1), a[2]!], b)
    expect(tied.method).toBe('normal')
    expect(Math.abs(tied.pValue - exact.pValue)).toBeLessThan(0.05)
  })

  it('refuses empty or non-finite samples', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError)
    expect(() => mannWhitneyU([1, Number.NaN], [1])).toThrow(RangeError)
  })

  it("classifies Cliff's delta by Romano's thresholds", () => {
    expect(effectMagnitude(0.1)).toBe('negligible')
    expect(effectMagnitude(-0.2)).toBe('small')
    expect(effectMagnitude(0.4)).toBe('medium')
    expect(effectMagnitude(-0.9)).toBe('large')
  })
})

describe('shift estimates', () => {
  it('recovers a constant shift with Hodges–Lehmann', () => {
    const a = normalSample(50, 20, 2, 8)
    expect(
      hodgesLehmannShift(
        a,
        a.map((value) => value + 6),
      ),
    ).toBeCloseTo(6, 9)
  })

  it('bootstraps an interval that covers the true shift, the same way for the same seed', () => {
    const a = normalSample(60, 20, 1, 9)
    const b = normalSample(60, 26, 1, 10)
    const interval = bootstrapInterval(a, b, { seed: 42 })
    expect(interval.low).toBeLessThan(6.5)
    expect(interval.high).toBeGreaterThan(5.5)
    expect(interval.low).toBeLessThanOrEqual(interval.estimate)
    expect(interval.high).toBeGreaterThanOrEqual(interval.estimate)
    expect(bootstrapInterval(a, b, { seed: 42 })).toEqual(interval)
  })
})

describe('normal distribution', () => {
  it('has the textbook values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7)
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6)
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 6)
    expect(normalCdf(8)).toBeCloseTo(1, 10)
  })
})
