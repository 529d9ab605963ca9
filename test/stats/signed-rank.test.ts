import { describe, expect, it } from 'vitest'
import { hodgesLehmannCenter, smallestSignedRankP, wilcoxonSignedRank } from '../../src/stats/index.js'

describe('the Wilcoxon signed-rank test', () => {
  it('gives the exact p-values of the tables', () => {
    // all 8 the same way: 2 / 256
    expect(wilcoxonSignedRank([1, 2, 3, 4, 5, 6, 7, 8]).pValue).toBeCloseTo(0.0078125, 10)
    // W+ = 3 of 36 (ranks 1 and 2 negative... here rank 3 negative): P(W <= 3) = 5/256, two-sided 10/256
    const result = wilcoxonSignedRank([0.1, 0.2, -0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    expect(result.wPlus).toBe(33)
    expect(result.pValue).toBeCloseTo(10 / 256, 10)
    expect(result.method).toBe('exact')
  })

  it('agrees with R for a textbook example (wilcox.test(x - y, exact = TRUE))', () => {
    // Hollander & Wolfe's depression scores: V = 40, p-value = 0.03906
    const x = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3]
    const y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    const result = wilcoxonSignedRank(x.map((value, i) => value - y[i]!))
    expect(result.wPlus).toBe(40)
    expect(result.pValue).toBeCloseTo(0.0390625, 6)
  })

  it('is symmetric, and its effect size runs from -1 to 1', () => {
    const up = wilcoxonSignedRank([1, 2, 3, 4, 5, 6])
    const down = wilcoxonSignedRank([-1, -2, -3, -4, -5, -6])
    expect(up.rankBiserial).toBe(1)
    expect(down.rankBiserial).toBe(-1)
    expect(up.pValue).toBe(down.pValue)
    expect(up.magnitude).toBe('large')
  })

  it('drops zeros and corrects for ties with the normal approximation', () => {
    const result = wilcoxonSignedRank([0, 0, 1, 1, 1, 2, 2, -1, 3, 3])
    expect(result.n).toBe(8)
    expect(result.method).toBe('normal')
    expect(result.pValue).toBeGreaterThan(0.01)
    expect(result.pValue).toBeLessThan(0.1)
    expect(wilcoxonSignedRank([0, 0]).pValue).toBe(1)
  })

  it('refuses values that are not numbers', () => {
    expect(() => wilcoxonSignedRank([1, Number.NaN])).toThrow(/not a finite number/)
  })

  it('knows the fewest pairs that can reach p < 0.05', () => {
    expect(smallestSignedRankP(5)).toBe(0.0625)
    expect(smallestSignedRankP(6)).toBe(0.03125)
  })

  it('estimates the typical difference by the median of Walsh averages', () => {
    expect(hodgesLehmannCenter([1, 2, 3])).toBe(2)
    expect(hodgesLehmannCenter([0, 0, 0, 10])).toBe(0)
    expect(hodgesLehmannCenter([])).toBeNaN()
  })
})
