/**
 * k6-style thresholds: `p99<250ms`, `p95<=100ms`, `error_rate<1%`, `rps>500`, `p(99.9)<1s`.
 * Parsing and evaluation are pure; a malformed expression is refused with the column of the
 * first character that does not fit, so a scenario file can point at it.
 */

export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!='

export type ThresholdMetric =
  | { kind: 'percentile'; percentile: number }
  | { kind: 'latency'; stat: 'min' | 'max' | 'avg' }
  | { kind: 'error_rate' }
  | { kind: 'rps' }
  | { kind: 'count'; of: 'errors' | 'timeouts' | 'requests' }

export interface Threshold {
  /** The expression as written, trimmed. */
  source: string
  metric: ThresholdMetric
  /** Canonical metric name: p99, p99.9, max, error_rate, rps, ... */
  name: string
  operator: ThresholdOperator
  /** Milliseconds for latencies, a fraction for error_rate, requests per second, or a count. */
  value: number
}

export type ThresholdParse = { ok: true; threshold: Threshold } | { ok: false; column: number; reason: string }

export const MAX_THRESHOLD_LENGTH = 200

const LATENCY_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000 }
const NAMED: Record<string, ThresholdMetric> = {
  min: { kind: 'latency', stat: 'min' },
  max: { kind: 'latency', stat: 'max' },
  avg: { kind: 'latency', stat: 'avg' },
  mean: { kind: 'latency', stat: 'avg' },
  med: { kind: 'percentile', percentile: 50 },
  median: { kind: 'percentile', percentile: 50 },
  error_rate: { kind: 'error_rate' },
  errors: { kind: 'count', of: 'errors' },
  timeouts: { kind: 'count', of: 'timeouts' },
  requests: { kind: 'count', of: 'requests' },
  rps: { kind: 'rps' },
}

/** Parses one expression; never throws. Columns are 1-based positions in `text`. */
export function tryParseThreshold(text: string): ThresholdParse {
  if (text.length > MAX_THRESHOLD_LENGTH)
    return { ok: false, column: MAX_THRESHOLD_LENGTH + 1, reason: `too long (${text.length} characters; at most ${MAX_THRESHOLD_LENGTH})` }
  let i = 0
  const fail = (reason: string, at = i): ThresholdParse => ({ ok: false, column: at + 1, reason })
  const skipSpaces = () => {
    while (text[i] === ' ' || text[i] === '\t') i++
  }
  const describe = (at: number) => (at >= text.length ? 'the end' : `"${printable(text[at]!)}"`)

  skipSpaces()
  const metricStart = i
  // metric: an identifier, pNN, pNN.N or p(NN.N)
  let metric: ThresholdMetric
  let name: string
  const identifier = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))
  if (!identifier) return fail(`expected a metric (p50, p95, p99, p99.9, max, avg, error_rate, rps) but found ${describe(i)}`)
  const word = identifier[0]
  const percentileWord = /^p(\d+)$/i.exec(word)
  if (word.toLowerCase() === 'p' && text[i + 1] === '(') {
    i += 2
    const number = /^\d+(\.\d+)?/.exec(text.slice(i))
    if (!number) return fail(`expected a percentile inside p( ) but found ${describe(i)}`)
    const percentile = Number(number[0])
    i += number[0].length
    if (text[i] !== ')') return fail(`expected ")" but found ${describe(i)}`)
    i++
    if (!(percentile > 0 && percentile <= 100)) return fail('a percentile must be above 0 and at most 100', metricStart + 2)
    metric = { kind: 'percentile', percentile }
    name = percentileName(percentile)
  } else if (percentileWord) {
    i += word.length
    let digits = percentileWord[1]!
    if (text[i] === '.') {
      const fraction = /^\.\d+/.exec(text.slice(i))
      if (!fraction) return fail(`expected digits after "." but found ${describe(i + 1)}`, i + 1)
      digits += fraction[0]
      i += fraction[0].length
    }
    const percentile = Number(digits)
    if (!(percentile > 0 && percentile <= 100)) return fail('a percentile must be above 0 and at most 100', metricStart + 1)
    metric = { kind: 'percentile', percentile }
    name = percentileName(percentile)
  } else {
    const known = Object.hasOwn(NAMED, word.toLowerCase()) ? NAMED[word.toLowerCase()] : undefined
    if (!known)
      return fail(
        `unknown metric "${printable(word)}"; use p50, p90, p95, p99, p99.9, p(N), min, max, avg, error_rate, rps, errors or timeouts`,
        metricStart,
      )
    i += word.length
    metric = known
    name =
      word.toLowerCase() === 'mean' ? 'avg' : word.toLowerCase() === 'med' || word.toLowerCase() === 'median' ? 'p50' : word.toLowerCase()
  }

  skipSpaces()
  const operator = /^(<=|>=|==|!=|<|>)/.exec(text.slice(i))?.[0] as ThresholdOperator | undefined
  if (!operator) return fail(`expected an operator (<, <=, >, >=, ==, !=) after "${name}" but found ${describe(i)}`)
  i += operator.length
  skipSpaces()

  const numberStart = i
  const number = /^\d+(\.\d+)?/.exec(text.slice(i))
  if (!number) return fail(`expected a number but found ${describe(i)}`)
  i += number[0].length
  let value = Number(number[0])
  skipSpaces()
  const unitStart = i
  const unit = /^(µs|[A-Za-z]+|%)/.exec(text.slice(i))?.[0]
  if (unit !== undefined) i += unit.length

  switch (metric.kind) {
    case 'percentile':
    case 'latency': {
      const scale = LATENCY_UNITS[unit ?? 'ms']
      if (scale === undefined) return fail(`"${printable(unit!)}" is not a duration unit; use us, ms, s or m`, unitStart)
      value *= scale
      break
    }
    case 'error_rate':
      if (unit === '%') value /= 100
      else if (unit !== undefined)
        return fail(`an error rate is a percentage (1%) or a fraction (0.01), not "${printable(unit)}"`, unitStart)
      if (value > 1) return fail('an error rate is at most 100% (or 1)', numberStart)
      break
    case 'rps':
      if (unit !== undefined && unit !== 'rps')
        return fail(`rps takes a plain number of requests per second, not "${printable(unit)}"`, unitStart)
      break
    case 'count':
      if (unit !== undefined) return fail(`${name} takes a plain count, not "${printable(unit)}"`, unitStart)
      if (!Number.isInteger(value)) return fail(`${name} takes a whole number`, numberStart)
      break
  }
  skipSpaces()
  if (i < text.length) return fail(`unexpected ${describe(i)} after the threshold`)
  return { ok: true, threshold: { source: text.trim(), metric, name, operator, value } }
}

function percentileName(percentile: number): string {
  return `p${percentile}`
}

function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).slice(0, 40)
}

/** One line and a caret under the column, for messages. */
export function pointAt(text: string, column: number): string {
  const shown = printable(text.slice(0, 120))
  return `  ${shown}\n  ${' '.repeat(Math.max(0, Math.min(column - 1, shown.length)))}^`
}

/** What a threshold is judged against: the statistics of the measured part of the run. */
export interface ThresholdInputs {
  /** Latency at a percentile (0-100), in milliseconds. */
  percentile(percentile: number): number
  minMs: number
  maxMs: number
  meanMs: number
  errorRate: number
  rps: number
  errors: number
  timeouts: number
  requests: number
}

export interface ThresholdOutcome {
  threshold: string
  metric: string
  passed: boolean
  /** The measured value in the threshold's unit (ms, fraction, rps, count). */
  actual: number
  limit: number
  operator: ThresholdOperator
  /** "p99 = 312ms (limit < 250ms)" */
  description: string
}

export function evaluateThreshold(threshold: Threshold, inputs: ThresholdInputs): ThresholdOutcome {
  const actual = measure(threshold.metric, inputs)
  const passed = Number.isFinite(actual) && compare(actual, threshold.operator, threshold.value)
  const format = (value: number) => formatMetricValue(threshold.metric, value)
  return {
    threshold: threshold.source,
    metric: threshold.name,
    passed,
    actual,
    limit: threshold.value,
    operator: threshold.operator,
    description: `${threshold.name} = ${Number.isFinite(actual) ? format(actual) : 'no data'} (limit ${threshold.operator} ${format(threshold.value)})`,
  }
}

export function evaluateThresholds(thresholds: readonly Threshold[], inputs: ThresholdInputs): ThresholdOutcome[] {
  return thresholds.map((threshold) => evaluateThreshold(threshold, inputs))
}

function measure(metric: ThresholdMetric, inputs: ThresholdInputs): number {
  switch (metric.kind) {
    case 'percentile':
      return inputs.percentile(metric.percentile)
    case 'latency':
      return metric.stat === 'min' ? inputs.minMs : metric.stat === 'max' ? inputs.maxMs : inputs.meanMs
    case 'error_rate':
      return inputs.errorRate
    case 'rps':
      return inputs.rps
    case 'count':
      return inputs[metric.of]
  }
}

function compare(actual: number, operator: ThresholdOperator, limit: number): boolean {
  switch (operator) {
    case '<':
      return actual < limit
    case '<=':
      return actual <= limit
    case '>':
      return actual > limit
    case '>=':
      return actual >= limit
    case '==':
      return actual === limit
    case '!=':
      return actual !== limit
  }
}

export function formatMetricValue(metric: ThresholdMetric, value: number): string {
  switch (metric.kind) {
    case 'percentile':
    case 'latency':
      return formatLatency(value)
    case 'error_rate':
      return `${(value * 100).toFixed(value * 100 < 1 && value > 0 ? 3 : 2).replace(/\.?0+$/, '')}%`
    case 'rps':
      return `${value.toFixed(1)} rps`
    case 'count':
      return String(value)
  }
}

/** 250ms, 1.5s, 300µs, 21.09ms: as a threshold would be written, two decimals at most. */
function formatLatency(ms: number): string {
  const short = (value: number) => String(Number(value.toFixed(2)))
  if (ms >= 1000) return `${short(ms / 1000)}s`
  if (ms < 1) return `${short(ms * 1000)}µs`
  return `${short(ms)}ms`
}
