/**
 * Threshold rules, apart from the statistical judge: plain limits on the canary's numbers in a
 * window (its error rate, a percentile, a Prometheus series), absolute (`max: 2%`) or relative to
 * stable over the same window (`maxIncrease: 25%`). Pure. A rule whose number cannot be had
 * (too few requests, a series the backend does not expose) is inconclusive, never a pass.
 */
import { verdict, type Verdict } from '../core/index.js'
import type { ThresholdMetricName, ThresholdRule } from './analysis.js'

/** What one side of the comparison measured in the window. */
export interface SideValues {
  /** Requests in the window (the sample size of rates and percentiles). */
  requests: number
  /** Router metrics (ms for latencies, a fraction for error_rate); undefined when the engine cannot give it. */
  metric(name: ThresholdMetricName): number | undefined
  /** A Prometheus series' value (gauge) or increase over the window (counter); undefined when absent. */
  prometheus(selector: string): number | undefined
}

export interface ThresholdOutcome {
  name: string
  status: 'pass' | 'fail' | 'inconclusive'
  /** One line with the numbers. */
  reason: string
  canaryValue?: number
  stableValue?: number
  max?: number
  min?: number
  maxIncrease?: number
  at?: string
}

export function evaluateThresholds(
  rules: readonly ThresholdRule[],
  sides: { canary: SideValues; stable: SideValues },
  minSamples: number,
): Verdict<ThresholdOutcome[]> {
  const outcomes = rules.map((rule) => evaluateRule(rule, sides, minSamples))
  const failed = outcomes.filter((outcome) => outcome.status === 'fail')
  const inconclusive = outcomes.filter((outcome) => outcome.status === 'inconclusive')
  const line = (outcome: ThresholdOutcome) => `threshold ${outcome.name}: ${outcome.reason}`
  if (failed.length > 0) return verdict('fail', failed.map(line), { evidence: outcomes })
  if (inconclusive.length > 0) return verdict('inconclusive', inconclusive.map(line), { evidence: outcomes })
  return verdict('pass', [], { evidence: outcomes })
}

function evaluateRule(rule: ThresholdRule, sides: { canary: SideValues; stable: SideValues }, minSamples: number): ThresholdOutcome {
  const base = {
    name: rule.name,
    ...(rule.max === undefined ? {} : { max: rule.max }),
    ...(rule.min === undefined ? {} : { min: rule.min }),
    ...(rule.maxIncrease === undefined ? {} : { maxIncrease: rule.maxIncrease }),
    ...(rule.at ? { at: rule.at } : {}),
  }
  const source = rule.source
  const read = (side: SideValues) => (source.kind === 'router' ? side.metric(source.metric) : side.prometheus(source.selector.text))
  const format = (value: number) => formatValue(rule, value)
  // Router numbers are statistics of the window's requests: too few requests and they say nothing.
  if (source.kind === 'router' && source.metric !== 'requests' && sides.canary.requests < minSamples)
    return {
      ...base,
      status: 'inconclusive',
      reason: `too few canary requests to judge: ${sides.canary.requests}, at least ${minSamples} needed`,
    }
  const canaryValue = read(sides.canary)
  if (canaryValue === undefined)
    return {
      ...base,
      status: 'inconclusive',
      reason:
        source.kind === 'prometheus'
          ? `the canary does not expose ${source.selector.text}`
          : `no ${source.metric} for the canary in this window`,
    }
  const failures: string[] = []
  if (rule.max !== undefined && canaryValue > rule.max) failures.push(`${format(canaryValue)} > max ${format(rule.max)}`)
  if (rule.min !== undefined && canaryValue < rule.min) failures.push(`${format(canaryValue)} < min ${format(rule.min)}`)
  let stableValue: number | undefined
  if (rule.maxIncrease !== undefined) {
    stableValue = read(sides.stable)
    const stableShort = source.kind === 'router' && source.metric !== 'requests' && sides.stable.requests < minSamples
    if (stableValue === undefined || stableShort)
      return {
        ...base,
        canaryValue,
        status: 'inconclusive',
        reason: stableShort
          ? `too few stable requests to compare with: ${sides.stable.requests}, at least ${minSamples} needed`
          : `no value from stable to compare with`,
      }
    const limit = stableValue * (1 + rule.maxIncrease)
    if (canaryValue > limit && canaryValue > stableValue)
      failures.push(
        `${format(canaryValue)} vs stable ${format(stableValue)}: ${increase(canaryValue, stableValue)} > max increase ${percent(rule.maxIncrease)}`,
      )
  }
  const shown = stableValue === undefined ? format(canaryValue) : `${format(canaryValue)} vs stable ${format(stableValue)}`
  return {
    ...base,
    canaryValue,
    ...(stableValue === undefined ? {} : { stableValue }),
    status: failures.length > 0 ? 'fail' : 'pass',
    reason: failures.length > 0 ? failures.join('; ') : `${shown} within ${limits(rule, format)}`,
  }
}

function limits(rule: ThresholdRule, format: (value: number) => string): string {
  const parts: string[] = []
  if (rule.max !== undefined) parts.push(`max ${format(rule.max)}`)
  if (rule.min !== undefined) parts.push(`min ${format(rule.min)}`)
  if (rule.maxIncrease !== undefined) parts.push(`max increase ${percent(rule.maxIncrease)}`)
  return parts.join(', ')
}

function formatValue(rule: ThresholdRule, value: number): string {
  if (rule.source.kind === 'prometheus' || rule.source.metric === 'requests') return `${+value.toPrecision(6)}`
  if (rule.source.metric === 'error_rate') return percent(value)
  return value < 10 ? `${value.toFixed(2)}ms` : `${value.toFixed(1)}ms`
}

const percent = (value: number) => `${+(value * 100).toFixed(2)}%`

function increase(value: number, base: number): string {
  if (base === 0) return 'up from 0'
  return `+${((value / base - 1) * 100).toFixed(1)}%`
}
