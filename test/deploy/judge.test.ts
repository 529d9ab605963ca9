import { describe, expect, it } from 'vitest'
import { judgeCanary } from '../../src/deploy/judge.js'
import { proportionTest } from '../../src/stats/index.js'
import { errorsOf, latencies } from './samples.js'

const latency = (stable: number[], canary: number[], extra = {}) => ({
  name: 'latency',
  kind: 'latency' as const,
  stable,
  canary,
  ...extra,
})
const errors = (stable: { errors: number; requests: number }, canary: { errors: number; requests: number }, extra = {}) => ({
  name: 'errors',
  kind: 'errors' as const,
  stable,
  canary,
  ...extra,
})

describe('the canary judge', () => {
  it('passes a canary whose latencies come from the same distribution as stable', () => {
    const result = judgeCanary([latency(latencies(2000, 40, 1), latencies(500, 40, 2))])
    expect(result.status).toBe('pass')
    expect(result.evidence!.metrics[0]).toMatchObject({ status: 'pass', stableCount: 2000, canaryCount: 500 })
  })

  it('fails a canary 20% slower, and says so with its numbers', () => {
    const result = judgeCanary([latency(latencies(2000, 40, 3), latencies(500, 48, 4))])
    expect(result.status).toBe('fail')
    const [metric] = result.evidence!.metrics
    expect(metric!.effect).toBeGreaterThan(0.15)
    expect(metric!.pValue).toBeLessThan(0.01)
    expect(result.reasons[0]).toMatch(
      /^latency: slower: median 4\d\.\dms vs (3|4)\d\.\dms \(shift \+\d+\.\d%, tolerance 5%\), Mann–Whitney p=/,
    )
  })

  it('passes a canary 2% slower: significant with many samples, but within the 5% tolerance', () => {
    const result = judgeCanary([latency(latencies(20_000, 40, 5, 0.1), latencies(20_000, 40.8, 6, 0.1))])
    const [metric] = result.evidence!.metrics
    expect(metric!.pValue).toBeLessThan(0.01)
    expect(result.status).toBe('pass')
    expect(metric!.reason).toMatch(/^within tolerance/)
  })

  it('fails the same 2% when the analysis asks for a 1% tolerance', () => {
    const result = judgeCanary([latency(latencies(20_000, 40, 5, 0.1), latencies(20_000, 40.8, 6, 0.1), { tolerance: 0.01 })])
    expect(result.status).toBe('fail')
  })

  it('is inconclusive with 30 canary samples against 10,000, never a silent pass', () => {
    const result = judgeCanary([latency(latencies(10_000, 40, 7), latencies(30, 80, 8))])
    expect(result.status).toBe('inconclusive')
    expect(result.reasons[0]).toBe('latency: too few samples to judge: 30 from the canary and 10000 from stable, at least 100 each needed')
    expect(result.evidence!.score).toBeUndefined()
  })

  it('fails a canary answering 5% errors against a healthy stable', () => {
    const result = judgeCanary([errors(errorsOf(3000, 0.001, 9), errorsOf(300, 0.05, 10))])
    expect(result.status).toBe('fail')
    expect(result.reasons[0]).toMatch(/^errors: more errors: error rate \d+(\.\d+)?% vs 0\.\d+% /)
  })

  it('passes a canary with as few errors as stable, and one error more within the tolerance', () => {
    expect(judgeCanary([errors({ errors: 3, requests: 3000 }, { errors: 0, requests: 300 })]).status).toBe('pass')
    expect(judgeCanary([errors({ errors: 3, requests: 3000 }, { errors: 1, requests: 300 })]).status).toBe('pass')
  })

  it('lets a critical metric fail the step alone, while a non-critical one is weighed by the pass score', () => {
    const slow = latency(latencies(2000, 40, 11), latencies(500, 60, 12))
    const healthy = errors(errorsOf(2000, 0.001, 13), errorsOf(500, 0.001, 14))
    expect(judgeCanary([slow, healthy], { passScore: 50 }).status).toBe('pass')
    expect(judgeCanary([{ ...slow, critical: true }, healthy], { passScore: 50 }).status).toBe('fail')
    expect(judgeCanary([slow, healthy]).status).toBe('fail')
  })

  it('says "inconclusive" when one metric passes and another cannot be judged', () => {
    const result = judgeCanary([
      latency(latencies(2000, 40, 15), latencies(500, 40, 16)),
      errors({ errors: 0, requests: 5000 }, { errors: 0, requests: 20 }),
    ])
    expect(result.status).toBe('inconclusive')
    expect(result.evidence!.score).toBe(100)
  })

  it('judges a tail (p99) by how often the canary lands above stable p99: a slow tail fails even when the median does not move', () => {
    const stable = latencies(5000, 40, 17)
    const canary = latencies(1000, 40, 18).map((value, i) => (i % 50 === 0 ? value * 4 : value))
    expect(judgeCanary([latency(stable, canary)]).status).toBe('pass')
    const tail = judgeCanary([latency(stable, canary, { name: 'p99', quantile: 0.99 })])
    expect(tail.status).toBe('fail')
    expect(tail.reasons[0]).toMatch(
      /^p99: slower tail: p99 .* vs .*; \d+(\.\d+)?% of canary requests above stable's p99 against 1% of stable's/,
    )
    expect(judgeCanary([latency(stable, latencies(1000, 40, 19), { name: 'p99', quantile: 0.99 })]).status).toBe('pass')
  })
})

describe('the proportion test', () => {
  it('uses the exact test on small counts and the normal approximation on large ones', () => {
    expect(proportionTest({ events: 2, total: 10_000 }, { events: 0, total: 40 })).toMatchObject({ method: 'fisher', pValue: 1 })
    expect(proportionTest({ events: 100, total: 10_000 }, { events: 50, total: 1000 }).method).toBe('normal')
    // Fisher's exact one-sided p of 3/10 vs 0/10: C(10,3)·C(10,0)/C(20,3) = 120/1140
    expect(proportionTest({ events: 0, total: 10 }, { events: 3, total: 10 }).pValue).toBeCloseTo(120 / 1140, 10)
  })

  it('refuses counts that are not counts', () => {
    expect(() => proportionTest({ events: 5, total: 3 }, { events: 0, total: 1 })).toThrow(RangeError)
  })
})
