import { describe, expect, it } from 'vitest'
import { ExitCode, OpsError } from '../../src/core/index.js'
import { parseThresholdFlag, type Threshold } from '../../src/load/index.js'
import { evaluateThresholds, tryParseThreshold, type ThresholdInputs } from '../../src/load/thresholds.js'

function parsed(text: string): Threshold {
  const result = tryParseThreshold(text)
  if (!result.ok) throw new Error(`expected ${text} to parse: ${result.reason}`)
  return result.threshold
}

function refused(text: string): { column: number; reason: string } {
  const result = tryParseThreshold(text)
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused`)
  return result
}

const inputs: ThresholdInputs = {
  percentile: (p) => (p <= 50 ? 20 : p <= 95 ? 40 : 312),
  minMs: 10,
  maxMs: 900,
  meanMs: 30,
  errorRate: 0.1,
  rps: 480.5,
  errors: 3,
  timeouts: 0,
  requests: 1000,
}

describe('threshold expressions', () => {
  it.each([
    ['p99<250ms', 'p99', '<', 250],
    ['p95<100ms', 'p95', '<', 100],
    ['p95 <= 0.1s', 'p95', '<=', 100],
    ['p50<300us', 'p50', '<', 0.3],
    ['p99.9<1s', 'p99.9', '<', 1000],
    ['p(99.9) < 1s', 'p99.9', '<', 1000],
    ['p(75)<20', 'p75', '<', 20],
    ['max<2m', 'max', '<', 120_000],
    ['avg<=15ms', 'avg', '<=', 15],
    ['med<10ms', 'p50', '<', 10],
    ['error_rate<1%', 'error_rate', '<', 0.01],
    ['error_rate<0.5', 'error_rate', '<', 0.5],
    ['error_rate==0', 'error_rate', '==', 0],
    ['rps>500', 'rps', '>', 500],
    ['rps>=99.5', 'rps', '>=', 99.5],
    ['timeouts==0', 'timeouts', '==', 0],
    ['errors!=1', 'errors', '!=', 1],
    ['  P99 < 250 ms  ', 'p99', '<', 250],
  ])('reads %s', (text, name, operator, value) => {
    const threshold = parsed(text)
    expect(threshold.name).toBe(name)
    expect(threshold.operator).toBe(operator)
    expect(threshold.value).toBeCloseTo(value, 9)
    expect(threshold.source).toBe(text.trim())
  })

  it.each([
    ['', 1, /expected a metric/],
    ['p99', 4, /expected an operator/],
    ['p99<', 5, /expected a number/],
    ['p99<<3', 5, /expected a number/],
    ['p99<25x0ms', 7, /"x" is not a duration unit/],
    ['p99<250 ms extra', 12, /unexpected "e"/],
    ['p99=250ms', 4, /expected an operator/],
    ['p0<1ms', 2, /above 0 and at most 100/],
    ['p101<1ms', 2, /above 0 and at most 100/],
    ['p(200)<1ms', 3, /above 0 and at most 100/],
    ['p(99<1ms', 5, /expected "\)"/],
    ['p99.<1ms', 5, /digits after/],
    ['latency<1ms', 1, /unknown metric "latency"/],
    ['__proto__<1', 1, /unknown metric/],
    ['constructor<1', 1, /unknown metric/],
    ['error_rate<150%', 12, /at most 100%/],
    ['error_rate<1ms', 13, /percentage/],
    ['rps>5ms', 6, /plain number/],
    ['errors<1.5', 8, /whole number/],
    ['p99<-5ms', 5, /expected a number/],
    ['p99<1e3', 6, /"e" is not a duration unit/],
    ['p99<NaN', 5, /expected a number/],
    ['p99<Infinity', 5, /expected a number/],
    ['p99<250ms; rm -rf /', 10, /unexpected ";"/],
    ['p99\u0000<1', 4, /\\u0000/],
  ])('refuses %j at column %i', (text, column, reason) => {
    const failure = refused(text)
    expect(failure.column).toBe(column)
    expect(failure.reason).toMatch(reason)
  })

  it('refuses an overlong expression without scanning it', () => {
    const failure = refused(`p99<${'9'.repeat(10_000)}`)
    expect(failure.reason).toMatch(/too long/)
  })

  it('points at the column in a flag error, exit 2', () => {
    try {
      parseThresholdFlag('p99<25x0ms')
      throw new Error('expected a failure')
    } catch (error) {
      expect(error).toBeInstanceOf(OpsError)
      expect((error as OpsError).exit).toBe(ExitCode.BadInput)
      expect((error as OpsError).message).toContain('at column 7')
      expect((error as OpsError).message).toContain('  p99<25x0ms\n        ^')
    }
  })
})

describe('evaluating thresholds', () => {
  it('names each failed threshold with its measured value', () => {
    const outcomes = evaluateThresholds(['p99<250ms', 'p50<25ms', 'error_rate<1%', 'rps>500', 'errors<=3'].map(parsed), inputs)
    expect(outcomes.map((outcome) => [outcome.threshold, outcome.passed])).toEqual([
      ['p99<250ms', false],
      ['p50<25ms', true],
      ['error_rate<1%', false],
      ['rps>500', false],
      ['errors<=3', true],
    ])
    expect(outcomes[0]!.description).toBe('p99 = 312ms (limit < 250ms)')
    expect(
      evaluateThresholds([parsed('p99<1.5s'), parsed('p50<300us')], { ...inputs, percentile: () => 21.0869 }).map(
        (outcome) => outcome.description,
      ),
    ).toEqual(['p99 = 21.09ms (limit < 1.5s)', 'p50 = 21.09ms (limit < 300µs)'])
    expect(outcomes[2]!.description).toBe('error_rate = 10% (limit < 1%)')
    expect(outcomes[3]!.description).toBe('rps = 480.5 rps (limit > 500.0 rps)')
  })

  it('fails a latency threshold when there is no data rather than passing it', () => {
    const [outcome] = evaluateThresholds([parsed('p99<250ms')], { ...inputs, percentile: () => Number.NaN })
    expect(outcome!.passed).toBe(false)
    expect(outcome!.description).toContain('no data')
  })
})
