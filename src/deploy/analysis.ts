/**
 * The analysis file: what the canary is judged on every interval. YAML with positions, like the
 * load scenarios and opsctl.yaml: an unknown key, an unknown metric or a value that does not
 * parse is refused with file:line:col and its key path (exit 2), before any traffic moves.
 *
 * ```yaml
 * minSamples: 100          # fewer requests (or latency samples) on either side: inconclusive
 * alpha: 0.01              # the step's significance level, split across the judged metrics
 * maxInconclusive: 3       # that many inconclusive windows in a row pause the rollout
 * metrics:                 # the statistical judge: canary against stable over the same window
 *   - metric: latency      # Mann–Whitney U + Hodges–Lehmann shift of the whole distribution
 *     tolerance: 5%
 *   - metric: p99          # the tail: share of canary requests above stable's p99
 *   - metric: errors       # one-sided proportion test (Fisher's exact on small counts)
 *     tolerance: 0.5%      # in points
 *     critical: true
 * thresholds:              # plain rules on the canary's numbers in the window
 *   - metric: error_rate
 *     max: 2%
 *   - metric: p95
 *     maxIncrease: 25%     # relative to stable's p95 in the same window
 *   - prometheus: process_resident_memory_bytes
 *     max: 512MB
 * load:                    # synthetic traffic through the router when real traffic is thin
 *   scenario: load/canary.yaml
 *   target: http://127.0.0.1:8080
 * ```
 */
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import {
  badInput,
  formatKeyPath,
  locate,
  parseDuration,
  parsePercent,
  parseSize,
  parseYamlText,
  positionOf,
  readYamlFile,
  validateYaml,
  type LocatedYaml,
  type YamlPath,
} from '../core/index.js'
import { JUDGE_DEFAULTS } from './judge.js'

export const JUDGE_METRICS = ['latency', 'errors', 'p50', 'p75', 'p90', 'p95', 'p99', 'p99.9'] as const
export const THRESHOLD_METRICS = ['error_rate', 'p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'mean', 'max', 'requests'] as const

export type JudgeMetricName = (typeof JUDGE_METRICS)[number]
export type ThresholdMetricName = (typeof THRESHOLD_METRICS)[number]

const number = z.union([z.number(), z.string()], { error: 'expected a number, a percentage (2%), a duration (300ms) or a size (512MB)' })

const judgeMetricSchema = z.strictObject({
  metric: z.enum(JUDGE_METRICS),
  name: z.string().min(1).max(100).optional(),
  tolerance: number.optional(),
  critical: z.boolean().optional(),
})

const thresholdSchema = z.strictObject({
  metric: z.enum(THRESHOLD_METRICS).optional(),
  prometheus: z.string().min(1).max(500).optional(),
  type: z.enum(['gauge', 'counter']).optional(),
  name: z.string().min(1).max(100).optional(),
  max: number.optional(),
  min: number.optional(),
  maxIncrease: number.optional(),
})

export const analysisSchema = z.strictObject({
  minSamples: z.number().int().min(1).max(10_000_000).optional(),
  alpha: z.number().gt(0).lt(0.5).optional(),
  passScore: z.number().min(0).max(100).optional(),
  maxInconclusive: z.number().int().min(1).max(1000).optional(),
  metrics: z.array(judgeMetricSchema).optional(),
  thresholds: z.array(thresholdSchema).optional(),
  load: z
    .strictObject({
      scenario: z.string().min(1),
      target: z.string().optional(),
    })
    .optional(),
})

export interface JudgeMetricSpec {
  name: string
  metric: JudgeMetricName
  tolerance?: number
  critical: boolean
}

/** A Prometheus series selector: `name` or `name{label="value",...}`; the value is the sum of the matching series. */
export interface PrometheusSelector {
  text: string
  name: string
  labels: Record<string, string>
}

export type ThresholdSource =
  { kind: 'router'; metric: ThresholdMetricName } | { kind: 'prometheus'; selector: PrometheusSelector; type: 'gauge' | 'counter' }

export interface ThresholdRule {
  name: string
  source: ThresholdSource
  /** In the metric's unit: ms for latencies, a fraction for error_rate, requests, or the Prometheus value. */
  max?: number
  min?: number
  /** Largest rise over stable's value in the same window, as a fraction (0.25 = 25%). */
  maxIncrease?: number
  /** file:line:col of the rule, for messages that point at it later (a series no backend exposes). */
  at?: string
}

export interface AnalysisSpec {
  /** The file it came from, if any. */
  file?: string
  minSamples: number
  alpha: number
  passScore: number
  maxInconclusive: number
  metrics: JudgeMetricSpec[]
  thresholds: ThresholdRule[]
  load?: { scenario: string; target?: string }
}

export const DEFAULT_METRICS: readonly JudgeMetricSpec[] = [
  { name: 'latency', metric: 'latency', critical: false },
  { name: 'p99', metric: 'p99', critical: false },
  { name: 'errors', metric: 'errors', critical: true },
]

export interface AnalysisDefaults {
  minSamples: number
  maxInconclusive: number
}

/** No file: the default metrics (latency, p99, errors) and no thresholds. */
export function defaultAnalysis(defaults: AnalysisDefaults): AnalysisSpec {
  return {
    minSamples: defaults.minSamples,
    alpha: JUDGE_DEFAULTS.alpha,
    passScore: JUDGE_DEFAULTS.passScore,
    maxInconclusive: defaults.maxInconclusive,
    metrics: DEFAULT_METRICS.map((metric) => ({ ...metric })),
    thresholds: [],
  }
}

const HINT = 'See docs/deploy.md for the analysis file.'

export function loadAnalysisFile(file: string, defaults: AnalysisDefaults): AnalysisSpec {
  return analysisFromLocated(readYamlFile(file, 'analysis file'), defaults)
}

export function parseAnalysisText(text: string, defaults: AnalysisDefaults, file = 'analysis.yaml'): AnalysisSpec {
  return analysisFromLocated(parseYamlText(text, file, 'analysis file'), defaults)
}

function analysisFromLocated(located: LocatedYaml, defaults: AnalysisDefaults): AnalysisSpec {
  if (located.value !== null && located.value !== undefined && (typeof located.value !== 'object' || Array.isArray(located.value)))
    throw badInput(`${located.file}:1:1: an analysis file is a mapping with metrics, thresholds, minSamples...`, HINT)
  const input = validateYaml(located, analysisSchema, { what: 'analysis file', hint: HINT })
  const problems: string[] = []
  const problem = (path: YamlPath, message: string) => problems.push(`${locate(located, path)}${formatKeyPath(path)}: ${message}`)

  const metrics: JudgeMetricSpec[] = []
  for (const [index, entry] of (input.metrics ?? []).entries()) {
    const path = ['metrics', index]
    const name = entry.name ?? entry.metric
    if (metrics.some((metric) => metric.name === name))
      problem([...path, 'name'], `"${name}" is judged twice; give one of them another name`)
    const tolerance = entry.tolerance === undefined ? undefined : parseValue(entry.tolerance, 'fraction', [...path, 'tolerance'], problem)
    metrics.push({
      name,
      metric: entry.metric,
      critical: entry.critical ?? entry.metric === 'errors',
      ...(tolerance === undefined ? {} : { tolerance }),
    })
  }

  const thresholds: ThresholdRule[] = []
  for (const [index, entry] of (input.thresholds ?? []).entries()) {
    const path = ['thresholds', index]
    if ((entry.metric === undefined) === (entry.prometheus === undefined)) {
      problem(path, 'give either metric (the router’s numbers) or prometheus (a series from the backends’ /metrics)')
      continue
    }
    if (entry.max === undefined && entry.min === undefined && entry.maxIncrease === undefined) {
      problem(path, 'give max, min or maxIncrease')
      continue
    }
    if (entry.type !== undefined && entry.prometheus === undefined) problem([...path, 'type'], 'type applies to prometheus series only')
    let source: ThresholdSource | undefined
    let unit: Unit = 'number'
    if (entry.metric !== undefined) {
      source = { kind: 'router', metric: entry.metric }
      unit = entry.metric === 'error_rate' ? 'fraction' : entry.metric === 'requests' ? 'number' : 'ms'
    } else {
      const selector = parseSelector(entry.prometheus!)
      if (typeof selector === 'string') problem([...path, 'prometheus'], selector)
      else source = { kind: 'prometheus', selector, type: entry.type ?? 'gauge' }
    }
    const value = (key: 'max' | 'min') => (entry[key] === undefined ? undefined : parseValue(entry[key], unit, [...path, key], problem))
    const max = value('max')
    const min = value('min')
    const maxIncrease =
      entry.maxIncrease === undefined ? undefined : parseValue(entry.maxIncrease, 'fraction', [...path, 'maxIncrease'], problem)
    if (!source) continue
    const label = entry.name ?? (source.kind === 'router' ? source.metric : source.selector.text)
    const position = positionOf(located, path)
    thresholds.push({
      name: label,
      source,
      ...(max === undefined ? {} : { max }),
      ...(min === undefined ? {} : { min }),
      ...(maxIncrease === undefined ? {} : { maxIncrease }),
      ...(position ? { at: `${located.file}:${position.line}:${position.col}` } : {}),
    })
  }
  if (input.metrics !== undefined && metrics.length === 0 && thresholds.length === 0)
    problem(['metrics'], 'nothing to judge: give at least one metric or threshold')
  if (problems.length > 0) throw badInput(problems.join('\n'), HINT)

  const load = input.load
    ? {
        scenario: resolve(dirname(resolve(located.file)), input.load.scenario),
        ...(input.load.target ? { target: input.load.target } : {}),
      }
    : undefined
  return {
    file: located.file,
    minSamples: input.minSamples ?? defaults.minSamples,
    alpha: input.alpha ?? JUDGE_DEFAULTS.alpha,
    passScore: input.passScore ?? JUDGE_DEFAULTS.passScore,
    maxInconclusive: input.maxInconclusive ?? defaults.maxInconclusive,
    metrics: input.metrics === undefined ? DEFAULT_METRICS.map((metric) => ({ ...metric })) : metrics,
    thresholds,
    ...(load ? { load } : {}),
  }
}

type Unit = 'fraction' | 'ms' | 'number'

function parseValue(
  value: string | number,
  unit: Unit,
  path: YamlPath,
  problem: (path: YamlPath, message: string) => void,
): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      problem(path, `${value} must be a finite number, 0 or more`)
      return undefined
    }
    return value
  }
  const text = value.trim()
  try {
    if (unit === 'fraction') return parsePercent(text, formatKeyPath(path))
    if (unit === 'ms') return parseDuration(text, formatKeyPath(path))
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
    return parseSize(text, formatKeyPath(path))
  } catch {
    const expected =
      unit === 'fraction' ? 'a percentage such as 2%' : unit === 'ms' ? 'a duration such as 300ms' : 'a number (or a size such as 512MB)'
    problem(path, `"${text.slice(0, 40)}" is not ${expected}`)
    return undefined
  }
}

const SELECTOR = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?$/s
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/s

/** `name` or `name{a="b",c="d"}` (exact matches only), or why it is not one. */
export function parseSelector(text: string): PrometheusSelector | string {
  const match = SELECTOR.exec(text.trim())
  if (!match) return `"${text.slice(0, 80)}" is not a series selector: name or name{label="value"}`
  const labels = Object.create(null) as Record<string, string>
  let rest = match[2] ?? ''
  while (rest.trim() !== '') {
    const label = LABEL.exec(rest)
    if (!label) return `"${text.slice(0, 80)}": labels are label="value", separated by commas`
    if (Object.hasOwn(labels, label[1]!)) return `"${text.slice(0, 80)}": label ${label[1]} is given twice`
    labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char))
    rest = rest.slice(label[0].length)
  }
  return { text: text.trim(), name: match[1]!, labels }
}
