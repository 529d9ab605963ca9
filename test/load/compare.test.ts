import { describe, expect, it } from 'vitest'
import { exitCodeOf, ExitCode, seededRandom } from '../../src/core/index.js'
import { compareResults, comparisonVerdict, loadVerdict } from '../../src/load/index.js'
import { type LoadPlan } from '../../src/load/plan.js'
import { judgeValidity } from '../../src/load/assemble.js'
import { type ComparableResult } from '../../src/load/compare.js'
import { type RunStats } from '../../src/load/result.js'

/** Per-second series around a latency, with noise, as a run of `seconds` would record. */
function result(
  p50: number,
  options: { seconds?: number; runs?: number; seed?: number; model?: 'open' | 'closed'; rps?: number; errorRate?: number } = {},
): ComparableResult {
  const random = seededRandom(options.seed ?? 1)
  const noise = (value: number, spread: number) => value * (1 + (random() - 0.5) * spread)
  return {
    name: 'test',
    model: options.model ?? 'open',
    startedAt: '2026-01-01T00:00:00.000Z',
    runs: Array.from({ length: options.runs ?? 2 }, () => ({
      series: [
        ...Array.from({ length: options.seconds ?? 6 }, () => {
          const requests = Math.round(noise(options.rps ?? 100, 0.04))
          return {
            requests,
            failed: Math.round(requests * (options.errorRate ?? 0)),
            rps: requests,
            p50: noise(p50, 0.06),
            p99: noise(p50 * 1.6, 0.15),
          }
        }),
        // a partial last second is never a sample
        { requests: 3, failed: 3, rps: 30, p50: 1000, p99: 1000, partial: true as const },
      ],
    })),
  }
}

describe('comparing results', () => {
  it('finds no significant change between two runs of the same server', () => {
    const comparison = compareResults(result(21, { seed: 1 }), result(21, { seed: 2 }))
    expect(comparison.verdict).toBe('no significant change')
    expect(comparison.metrics.map((metric) => metric.metric)).toEqual(['p50', 'p99'])
    expect(comparison.metrics[0]!.baseline.samples).toBe(12)
  })

  it('calls a 30% slower server regressed, with the effect size and interval', () => {
    const comparison = compareResults(result(21, { seed: 3 }), result(27.3, { seed: 4 }))
    expect(comparison.verdict).toBe('regressed')
    const p50 = comparison.metrics[0]!
    expect(p50.verdict).toBe('regressed')
    expect(p50.change).toBeGreaterThan(0.2)
    expect(p50.change).toBeLessThan(0.4)
    expect(p50.interval.low).toBeGreaterThan(0.15)
    expect(p50.cliffsDelta).toBe(1)
    expect(p50.magnitude).toBe('large')
    expect(p50.pValue).toBeLessThan(0.001)
    expect(comparison.explanation).toMatch(/^regressed: p50 \+\d+\.\d% \(95% CI .*\), Mann–Whitney p < 0\.001, Cliff's δ 1\.00 \(large\)$/)
    expect(exitCodeOf(comparisonVerdict(comparison))).toBe(ExitCode.CheckFailed)
  })

  it('calls a faster server improved', () => {
    expect(compareResults(result(27, { seed: 5 }), result(20, { seed: 6 })).verdict).toBe('improved')
  })

  it('ignores a significant but tiny change', () => {
    // 2% slower, with little noise: Mann–Whitney sees it, the minimum change does not count it
    const comparison = compareResults(result(20, { seed: 7, seconds: 30 }), result(20.4, { seed: 8, seconds: 30 }), { minChange: 0.05 })
    expect(comparison.verdict).toBe('no significant change')
  })

  it('is inconclusive with too few per-second samples', () => {
    const comparison = compareResults(result(20, { seconds: 2, runs: 1 }), result(30, { seconds: 2, runs: 1 }))
    expect(comparison.verdict).toBe('inconclusive')
    expect(comparison.explanation).toMatch(/too few per-second samples \(2 baseline, 2 current; at least 5 each\)/)
    expect(exitCodeOf(comparisonVerdict(comparison))).toBe(ExitCode.InvalidMeasurement)
  })

  it('judges throughput in the closed model and errors when there are any', () => {
    const comparison = compareResults(
      result(20, { model: 'closed', rps: 500, seed: 9 }),
      result(20, { model: 'closed', rps: 350, seed: 10, errorRate: 0.05 }),
    )
    expect(comparison.metrics.map((metric) => [metric.metric, metric.verdict])).toEqual([
      ['p50', 'no significant change'],
      ['p99', 'no significant change'],
      ['rps', 'regressed'],
      ['error_rate', 'regressed'],
    ])
  })
})

function run(overrides: Partial<RunStats> = {}): RunStats {
  return {
    startedAt: '',
    finishedAt: '',
    measuredMs: 3000,
    requests: {
      total: 300,
      ok: 300,
      failed: 0,
      errors: 0,
      timeouts: 0,
      unexpectedStatus: 0,
      checkFailed: 0,
      warmup: 0,
      dropped: 0,
      unfinished: 0,
    },
    statusCodes: { 200: 300 },
    errorCodes: {},
    checkFailures: {},
    bytesReceived: 0,
    rps: 100,
    errorRate: 0,
    latency: { p50: 21, p90: 22, p95: 23, p99: 25, p999: 30, max: 31, min: 20, mean: 21, stdev: 1 },
    perRequest: [],
    series: [],
    histogram: '',
    generator: { threads: 1, workers: 0, eventLoopUtilization: 0.2, cpuCores: 0.2, cores: 2, saturated: false },
    ...overrides,
  }
}

const plan = { model: 'open', connections: 1 } as LoadPlan

describe('honest measurement', () => {
  it('accepts a run that met its rate with an idle generator', () => {
    expect(judgeValidity(plan, [run({ rate: { target: 100, achieved: 96, shortfall: 0.04 } })])).toEqual({ valid: true, reasons: [] })
  })

  it('calls a run invalid when the open model fell more than 5% short, saying why', () => {
    const validity = judgeValidity(plan, [
      run({ rate: { target: 200, achieved: 47, shortfall: 0.765 }, requests: { ...run().requests, dropped: 306 } }),
    ])
    expect(validity.valid).toBe(false)
    expect(validity.reasons[0]!.code).toBe('rate-shortfall')
    expect(validity.reasons[0]!.message).toMatch(/achieved 47\.0 rps of the 200\.0 rps asked for \(77% short, 306 requests never sent/)
    expect(validity.reasons[0]!.hint).toMatch(/All 1 connections were busy/)
    expect(exitCodeOf(loadVerdict({ validity, thresholds: [] }))).toBe(ExitCode.InvalidMeasurement)
  })

  it('calls a run invalid when the generator itself was saturated', () => {
    const validity = judgeValidity({ ...plan, model: 'closed' }, [
      run({ generator: { threads: 1, workers: 0, eventLoopUtilization: 0.97, cpuCores: 1, cores: 2, saturated: true } }),
    ])
    expect(validity.reasons.map((reason) => reason.code)).toEqual(['generator-saturated'])
    expect(validity.reasons[0]!.message).toMatch(/busy 97% of the time/)
  })

  it('calls a run without samples invalid', () => {
    expect(judgeValidity(plan, [run({ requests: { ...run().requests, total: 0 } })]).reasons[0]!.code).toBe('no-samples')
  })

  it('fails on thresholds with exit 1 only when the measurement is valid', () => {
    const failed = [
      {
        threshold: 'p99<10ms',
        metric: 'p99',
        passed: false,
        actual: 25,
        limit: 10,
        operator: '<' as const,
        description: 'p99 = 25ms (limit < 10ms)',
      },
    ]
    const failure = loadVerdict({ validity: { valid: true, reasons: [] }, thresholds: failed })
    expect(exitCodeOf(failure)).toBe(ExitCode.CheckFailed)
    expect(failure.reasons).toEqual(['1 of 1 threshold failed: p99<10ms (p99 = 25ms (limit < 10ms))'])
    const invalid = loadVerdict({
      validity: { valid: false, reasons: [{ code: 'no-samples', message: 'x', hint: 'y' }] },
      thresholds: failed,
    })
    expect(exitCodeOf(invalid)).toBe(ExitCode.InvalidMeasurement)
  })
})
