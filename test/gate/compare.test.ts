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
      baseline: 0.05,
      current: 0.8,
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
})
