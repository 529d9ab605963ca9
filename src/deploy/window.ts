/**
 * One analysis window, judged: the router's samples of both sides (raw latencies and outcome
 * counts per backend) and the backends' Prometheus series in, the step's verdict out, with every
 * number it used. Pure. A side can be several backends (rolling: the replaced instances against
 * those not yet replaced); their samples are pooled.
 */
import { verdict, type Verdict, type VerdictStatus } from '../core/index.js'
import { mean, quantile } from '../stats/index.js'
import type { SampleWindow } from '../traffic/index.js'
import type { AnalysisSpec, JudgeMetricSpec, ThresholdMetricName } from './analysis.js'
import { judgeCanary, type CanaryJudgement, type JudgedMetric } from './judge.js'
import { evaluateThresholds, type SideValues, type ThresholdOutcome } from './thresholds.js'

/** A side's numbers in the window (no raw samples: this is what is printed and recorded). */
export interface SideSummary {
  backends: string[]
  requests: number
  /** 5xx answers and requests without an answer. */
  errors: number
  errorRate?: number
  /** Latency samples judged (raw latencies, possibly a uniform sample of them). */
  samples: number
  p50?: number
  p95?: number
  p99?: number
  mean?: number
  /** `samples`: raw latencies; `average`: the engine's averages only (HAProxy); `none`. */
  latencySource: 'samples' | 'average' | 'none'
}

export interface Side extends SideSummary {
  latencyMs: number[]
}

export type JudgedStatus = Exclude<VerdictStatus, 'invalid'>

export interface WindowVerdict {
  status: JudgedStatus
  reasons: string[]
  hint?: string
  from: string
  to: string
  /** False when part of the window is older than the engine keeps. */
  complete: boolean
  stable: SideSummary
  canary: SideSummary
  judge?: CanaryJudgement
  thresholds: ThresholdOutcome[]
  /** What could not be judged and why (HAProxy has no raw latencies, say). */
  notes: string[]
}

/** Per-backend Prometheus values: selector text -> value (gauge) or increase over the window (counter). */
export type PrometheusValues = Record<string, Record<string, number | undefined>>

export function sideOf(window: SampleWindow, backends: readonly string[]): Side {
  const members = window.backends.filter(
    (backend) => backends.includes(backend.backend) || backends.includes(`${backend.pool}/${backend.backend}`),
  )
  const requests = members.reduce((sum, backend) => sum + backend.requests, 0)
  const errors = members.reduce((sum, backend) => sum + backend.outcomes['5xx'] + backend.outcomes.connection, 0)
  const latencyMs = members.flatMap((backend) => backend.latencyMs ?? [])
  const averages = members.filter((backend) => backend.latency?.mean !== undefined)
  const hasSamples = members.some((backend) => backend.latencyMs !== undefined)
  const side: Side = {
    backends: [...backends],
    requests,
    errors,
    ...(requests > 0 ? { errorRate: errors / requests } : {}),
    samples: latencyMs.length,
    latencyMs,
    latencySource: hasSamples ? 'samples' : averages.length > 0 ? 'average' : 'none',
  }
  if (latencyMs.length > 0) {
    side.p50 = quantile(latencyMs, 0.5)
    side.p95 = quantile(latencyMs, 0.95)
    side.p99 = quantile(latencyMs, 0.99)
    side.mean = mean(latencyMs)
  } else if (averages.length > 0) {
    // HAProxy: averages of each server's last 1024 requests, weighted by the window's requests
    const weight = averages.reduce((sum, backend) => sum + Math.max(1, backend.answered), 0)
    side.mean = averages.reduce((sum, backend) => sum + backend.latency!.mean! * Math.max(1, backend.answered), 0) / weight
  }
  return side
}

export function summary(side: Side): SideSummary {
  const { latencyMs: _samples, ...rest } = side
  return rest
}

const QUANTILES: Partial<Record<string, number>> = { p50: 0.5, p75: 0.75, p90: 0.9, p95: 0.95, p99: 0.99, 'p99.9': 0.999 }

function sideValues(side: Side, prometheus: Record<string, number | undefined>): SideValues {
  return {
    requests: side.requests,
    metric(name: ThresholdMetricName) {
      if (name === 'requests') return side.requests
      if (name === 'error_rate') return side.errorRate
      if (name === 'mean') return side.mean
      if (side.latencyMs.length === 0) return undefined
      if (name === 'max') return side.latencyMs.reduce((a, b) => Math.max(a, b), 0)
      return quantile(side.latencyMs, QUANTILES[name]!)
    },
    prometheus: (selector) => prometheus[selector],
  }
}

function judgedMetric(spec: JudgeMetricSpec, stable: Side, canary: Side): JudgedMetric {
  const common = { name: spec.name, critical: spec.critical, ...(spec.tolerance === undefined ? {} : { tolerance: spec.tolerance }) }
  if (spec.metric === 'errors')
    return {
      ...common,
      kind: 'errors',
      stable: { errors: stable.errors, requests: stable.requests },
      canary: { errors: canary.errors, requests: canary.requests },
    }
  const q = QUANTILES[spec.metric]
  return { ...common, kind: 'latency', stable: stable.latencyMs, canary: canary.latencyMs, ...(q === undefined ? {} : { quantile: q }) }
}

export interface WindowInput {
  window: SampleWindow
  stable: readonly string[]
  canary: readonly string[]
  /** Sum over each side's backends, by selector text. */
  prometheus?: { stable: Record<string, number | undefined>; canary: Record<string, number | undefined> }
}

/**
 * The window's verdict: the judge's (canary against stable, metric by metric) and the threshold
 * rules', the worse of the two. Latency metrics are left out, and said to be, when the engine has
 * no raw latencies (HAProxy): they would be inconclusive for ever.
 */
export function judgeWindow(input: WindowInput, analysis: AnalysisSpec): WindowVerdict {
  const stable = sideOf(input.window, input.stable)
  const canary = sideOf(input.window, input.canary)
  const notes: string[] = []
  const noSamples = stable.latencySource !== 'samples' || canary.latencySource !== 'samples'
  const alone = input.stable.length === 0
  if (alone) notes.push('no other backend to compare with: only the threshold rules judge')
  const specs = analysis.metrics.filter((spec) => {
    if (alone) return false
    if (spec.metric === 'errors' || !noSamples) return true
    notes.push(
      `${spec.name} not judged: the traffic engine gives no per-request latencies (use thresholds on mean, or the backends' Prometheus histograms)`,
    )
    return false
  })
  if (!input.window.complete) notes.push(`the window starts before what the engine keeps: counted from ${input.window.from}`)
  const judged: Verdict<CanaryJudgement> | undefined =
    specs.length > 0
      ? judgeCanary(
          specs.map((spec) => judgedMetric(spec, stable, canary)),
          { alpha: analysis.alpha, minSamples: analysis.minSamples, passScore: analysis.passScore },
        )
      : undefined
  const thresholds = evaluateThresholds(
    analysis.thresholds,
    {
      stable: sideValues(stable, input.prometheus?.stable ?? {}),
      canary: sideValues(canary, input.prometheus?.canary ?? {}),
    },
    analysis.minSamples,
  )
  const parts: Verdict[] = []
  if (judged) parts.push(judged)
  if (analysis.thresholds.length > 0) parts.push(thresholds)
  const combined =
    parts.length === 0 && alone ? { status: 'pass' as const, reasons: ['healthy; nothing to compare it with'] } : worst(parts)
  return {
    status: combined.status,
    reasons: combined.reasons,
    ...(combined.hint ? { hint: combined.hint } : {}),
    from: input.window.from,
    to: input.window.to,
    complete: input.window.complete,
    stable: summary(stable),
    canary: summary(canary),
    ...(judged?.evidence ? { judge: judged.evidence } : {}),
    thresholds: thresholds.evidence ?? [],
    notes,
  }
}

const SEVERITY: Record<JudgedStatus, number> = { pass: 0, inconclusive: 1, fail: 2 }

function worst(parts: readonly Verdict[]): { status: JudgedStatus; reasons: string[]; hint?: string } {
  if (parts.length === 0) return { status: 'inconclusive', reasons: ['nothing to judge: no metric and no threshold could be evaluated'] }
  const statusOf = (part: Verdict): JudgedStatus => (part.status === 'invalid' ? 'inconclusive' : part.status)
  const status = parts.map(statusOf).reduce((a, b) => (SEVERITY[b] > SEVERITY[a] ? b : a))
  const same = parts.filter((part) => statusOf(part) === status)
  const hint = same.find((part) => part.hint)?.hint
  return { status, reasons: same.flatMap((part) => part.reasons), ...(hint ? { hint } : {}) }
}

/** A verdict of the core shape, for commands and the dashboard. */
export function windowAsVerdict(window: WindowVerdict): Verdict<WindowVerdict> {
  return verdict(window.status, window.reasons, { evidence: window, ...(window.hint ? { hint: window.hint } : {}) })
}
