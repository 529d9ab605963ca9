import { describe, expect, it } from 'vitest'
import { compareRuns, DEFAULT_RULES, sideStats, type RunSummary } from '../../src/gate/compare.js'

const run = (p50: number, p90 = p50 * 2, extra: Partial<RunSummary> = {}): RunSummary => ({
  requests: 300,
  rps: 50,
  p50,
  p90,
  p99: p90 * 1.5,
  errorRate: 0,
  ...extra,
})
const runs = (values: number[], scale = 1) => values.map((value) => run(value * scale))

describe('the gate comparison of repeated runs', () => {
  it('passes an unchanged build whose runs wobble a little', () => {
    const judgement = compareRuns(runs([10, 10.4, 9.8, 10.1, 10.3]), runs([10.2, 9.9, 10.5, 10, 10.1]))
    expect(judgement.verdict.status).toBe('pass')
    expect(judgement.metrics.map((metric) => metric.status)).toEqual(['unchanged', 'unchanged'])
  })

  it('fails a 20% latency regression, stating the effect size and confidence', () => {
    const judgement = compareRuns(runs([10, 10.4, 9.8, 10.1, 10.3]), runs([10, 10.4, 9.8, 10.1, 10.3], 1.2))
    expect(judgement.verdict.status).toBe('fail')
    const p50 = judgement.metrics.find((metric) => metric.metric === 'p50')!
    expect(p50.status).toBe('regressed')
    expect(p50.change).toBeCloseTo(0.2, 1)
    expect(p50.explanation).toMatch(/\+20\.\d% \(95% CI .*\), Mann–Whitney p = 0\.0\d+, Cliff's δ 1\.00 \(large\), 5\+5 runs/)
  })

  it('does not fail a change below the tolerance, even when it is significant', () => {
    const judgement = compareRuns(runs([10, 10.1, 10.05, 10.02, 10.08]), runs([10.5, 10.6, 10.55, 10.52, 10.58]))
    expect(judgement.metrics[0]!.pValue).toBeLessThan(0.05)
    expect(judgement.verdict.status).toBe('pass')
  })

  it('says invalid measurement when the runs of one side disagree with each other', () => {
    const judgement = compareRuns(runs([10, 10.4, 9.8, 10.1, 10.3]), runs([6, 14, 9, 18, 11]))
    expect(judgement.verdict.status).toBe('invalid')
    expect(judgement.verdict.reasons[0]).toMatch(
      /too noisy to decide: p50 .* runs disagree: spread ±\d+% baseline, ±\d+% current, limit 25%/,
    )
  })

  it('still fails a regression so large that every run is beyond the tolerance, however noisy', () => {
    const judgement = compareRuns(runs([10, 10.4, 9.8, 10.1, 10.3]), runs([30, 45, 31, 60, 33]))
    expect(judgement.verdict.status).toBe('fail')
    expect(judgement.metrics[0]!.separated).toBe(true)
  })

  it('says invalid measurement when the machine was busy with other work during a side', () => {
    const judgement = compareRuns(runs([10, 10.4, 9.8, 10.1, 10.3]), runs([10, 10.4, 9.8, 10.1, 10.3], 1.5), DEFAULT_RULES, {
      cpuPressure: { baseline: 0.05, current: 0.8 },
    })
    expect(judgement.verdict.status).toBe('invalid')
    expect(judgement.verdict.reasons[0]).toMatch(/busy with other work during the current runs: .* 80% of the time \(limit 30%\)/)
  })

  it('never passes a shift beyond the tolerance that the runs cannot confirm: one spiked baseline run, 3+3 runs', () => {
    // +30 ms on a 6 ms endpoint, while one baseline run met a busy machine: not separated, and 3+3
    // runs can never reach p < 0.05; a pass here would let a fivefold slowdown through
    const rules = { ...DEFAULT_RULES, metrics: ['p50' as const], tolerance: 0.5, maxSpread: 3 }
    const judgement = compareRuns(runs([6, 6.2, 30]), runs([36, 36.5, 37]), rules)
    expect(judgement.metrics[0]!.status).toBe('inconclusive')
    expect(judgement.verdict.status).toBe('inconclusive')
    expect(judgement.verdict.reasons[0]).toMatch(
      /^cannot decide: p50 6\.20ms → 36\.5ms: \+\d+\.\d% .*3\+3 runs — beyond the tolerance ±50\.0%, but not confirmed at 95% confidence \(3\+3 runs can never reach it: the smallest p-value they give is 0\.100\)/,
    )
    expect(judgement.verdict.hint).toMatch(/regression\.runs/)
  })

  it('says inconclusive, not pass, for 5+5 runs that overlap around a shift beyond the tolerance', () => {
    const judgement = compareRuns(runs([10, 10.2, 9.9, 10.1, 12.5]), runs([11.5, 12.8, 12, 9.8, 11.6]))
    const p50 = judgement.metrics[0]!
    expect(p50.change).toBeGreaterThan(0.1)
    expect(p50.pValue).toBeGreaterThan(0.05)
    expect(p50.status).toBe('inconclusive')
    expect(p50.explanation).not.toMatch(/can never reach/)
    expect(judgement.verdict.status).toBe('inconclusive')
  })

  it('passes an improvement that the runs cannot confirm', () => {
    const rules = { ...DEFAULT_RULES, metrics: ['p50' as const], tolerance: 0.5, maxSpread: 3 }
    expect(compareRuns(runs([36, 36.5, 37]), runs([6, 6.2, 30]), rules).verdict.status).toBe('pass')
  })

  it('passes an improvement', () => {
    expect(compareRuns(runs([10, 10.4, 9.8, 10.1, 10.3]), runs([10, 10.4, 9.8, 10.1, 10.3], 0.5)).verdict.status).toBe('pass')
  })

  it('judges throughput as higher-is-better and error rates in points', () => {
    const rules = { ...DEFAULT_RULES, metrics: ['rps' as const, 'error_rate' as const] }
    const base = [50, 51, 49, 50, 50.5].map((rps) => run(10, 20, { rps, errorRate: 0.001 }))
    const worse = [30, 31, 29, 30, 30.5].map((rps) => run(10, 20, { rps, errorRate: 0.05 }))
    const judgement = compareRuns(base, worse, rules)
    expect(judgement.metrics.map((metric) => metric.status)).toEqual(['regressed', 'regressed'])
    expect(judgement.metrics[1]!.explanation).toMatch(/error_rate 0\.10% → 5\.00%: \+4\.90 pp/)
  })

  it('measures spread robustly: one outlier run does not make a side noisy', () => {
    expect(sideStats([10, 10.2, 9.9, 10.1, 30]).spread).toBeLessThan(0.05)
    expect(sideStats([0, 0, 0], true).spread).toBe(0)
  })

  describe('side by side: each run paired with the reference run next to it', () => {
    // another job on the machine for the first half of the check: both builds 50% slower, the one under test 20% slower throughout
    const drift = [1.5, 1.5, 1.5, 1.5, 1, 1, 1, 1]
    const wobble = [1, 1.03, 0.98, 1.01, 0.99, 1.02, 0.97, 1]
    const reference = runs(drift.map((d, i) => 10 * d * wobble[i]!))
    const slower = runs(drift.map((d, i) => 12 * d * wobble[(i + 3) % 8]!))

    it('catches a 20% regression that the drift hides from two independent samples', () => {
      const independent = compareRuns(reference, slower)
      expect(independent.verdict.status).toBe('invalid')
      const paired = compareRuns(reference, slower, DEFAULT_RULES, { design: 'paired' })
      expect(paired.verdict.status).toBe('fail')
      const p50 = paired.metrics[0]!
      expect(p50).toMatchObject({ design: 'paired', test: 'wilcoxon-signed-rank', effectName: 'rank-biserial r', status: 'regressed' })
      expect(p50.change).toBeGreaterThan(0.15)
      expect(p50.change).toBeLessThan(0.25)
      expect(p50.interval.low).toBeGreaterThan(0.1)
      expect(p50.explanation).toMatch(/Wilcoxon signed-rank p = 0\.0\d\d, rank-biserial r 1\.00 \(large\), 8 pairs of runs/)
    })

    it('passes an unchanged build through the same drift', () => {
      const same = runs(drift.map((d, i) => 10 * d * wobble[(i + 3) % 8]!))
      const judgement = compareRuns(reference, same, DEFAULT_RULES, { design: 'paired' })
      expect(judgement.verdict.status).toBe('pass')
      expect(judgement.metrics.every((metric) => metric.pairSpread! < 0.05)).toBe(true)
    })

    it('says invalid measurement when the pairs disagree with each other, not when both sides drift alike', () => {
      const wild = runs([10, 14, 7, 13, 9, 16, 8, 11].map((value, i) => value * drift[i]!))
      const judgement = compareRuns(reference, wild, DEFAULT_RULES, { design: 'paired' })
      expect(judgement.verdict.status).toBe('invalid')
      expect(judgement.verdict.reasons[0]).toMatch(/the pairs disagree: their ratios spread ±\d+%, limit 25%/)
    })

    it('lets the tails spread twice as far as the p50 (maxTailSpread), as their tolerance is twice as wide', () => {
      // each run off its reference run by these ratios (p90 moves with p50 here): no shift, but a
      // disagreement of the pairs too wide for a p50 and within what a p90 may show
      const ratios = [1, 1.3, 0.75, 1.25, 0.8, 1.35, 0.7, 1.05]
      const current = runs(reference.map((one, i) => one.p50 * ratios[i]!))
      const judge = (metric: 'p50' | 'p90') =>
        compareRuns(reference, current, { ...DEFAULT_RULES, metrics: [metric] }, { design: 'paired' })
      const p50 = judge('p50')
      expect(p50.verdict.status).toBe('invalid')
      expect(p50.verdict.reasons[0]).toMatch(/the pairs disagree: their ratios spread ±\d+%, limit 25%/)
      const p90 = judge('p90')
      expect(p90.metrics[0]!.pairSpread).toBeGreaterThan(DEFAULT_RULES.maxSpread)
      expect(p90.metrics[0]!.pairSpread).toBeLessThan(DEFAULT_RULES.maxTailSpread)
      expect(p90.verdict.status).toBe('pass')
    })

    it('cannot confirm a shift with 5 pairs (their smallest p-value is 0.0625) and says inconclusive, not pass', () => {
      const few = compareRuns(reference.slice(0, 5), runs([16.95, 17.77, 15.88, 18.18, 11.09]), DEFAULT_RULES, { design: 'paired' })
      const p50 = few.metrics[0]!
      expect(p50.status).toBe('inconclusive')
      expect(p50.explanation).toMatch(/5 pairs of runs can never reach it: the smallest p-value they give is 0\.063/)
    })

    it('decides at once when every run is beyond its reference run by more than the tolerance', () => {
      const judgement = compareRuns(reference.slice(0, 3), runs([20, 19, 18]), DEFAULT_RULES, { design: 'paired' })
      expect(judgement.verdict.status).toBe('fail')
      expect(judgement.metrics[0]!.explanation).toMatch(/every run beyond its reference run by more than the tolerance/)
    })

    it('pairs error rates by their difference in points, zeros included', () => {
      const rules = { ...DEFAULT_RULES, metrics: ['error_rate' as const] }
      const base = Array.from({ length: 8 }, () => run(10, 20, { errorRate: 0 }))
      const failing = Array.from({ length: 8 }, (_, i) => run(10, 20, { errorRate: 0.05 + i * 0.001 }))
      expect(compareRuns(base, failing, rules, { design: 'paired' }).verdict.status).toBe('fail')
      expect(compareRuns(base, base, rules, { design: 'paired' }).verdict.status).toBe('pass')
    })

    it('refuses sides of different lengths: pairs need both', () => {
      expect(() => compareRuns(reference, reference.slice(1), DEFAULT_RULES, { design: 'paired' })).toThrow(
        /as many reference runs as runs/,
      )
    })
  })
})
