/**
 * From a checked scenario (or the quick form's flags) and a resolved target to a LoadPlan:
 * the model, the arrival schedule, the defaults. Pure.
 */
import { badInput } from '../core/index.js'
import { arrivalDurationMs, constantArrival, type ArrivalPlan } from './arrival.js'
import type { LoadPlan, RequestSpec, Target } from './plan.js'
import { DEFAULT_DURATION_MS, DEFAULT_MAX_DURATION_MS, DEFAULT_TIMEOUT_MS, type Scenario } from './scenario.js'
import { literalTemplate } from './template.js'
import type { Threshold } from './thresholds.js'

/** Flags that override the scenario (the quick form sets them all). */
export interface PlanOverrides {
  connections?: number
  rate?: number
  durationMs?: number
  requests?: number
  warmupMs?: number
  timeoutMs?: number
  workers?: number
  /** Added to the scenario's thresholds. */
  thresholds?: Threshold[]
}

export interface Machine {
  /** os.availableParallelism() */
  cores: number
}

/** One generating thread comfortably sends this many requests per second. */
export const RATE_PER_THREAD = 10_000

export function buildPlan(scenario: Scenario, target: Target, overrides: PlanOverrides, machine: Machine): LoadPlan {
  const load = { ...scenario.load }
  if (overrides.rate !== undefined) {
    delete load.stages
    delete load.startRate
    load.rate = overrides.rate
  }
  if (overrides.durationMs !== undefined) {
    if (load.stages)
      throw badInput(
        '--duration cannot shorten a scenario with stages',
        'Edit the stages in the scenario, or pass --rate to replace them with a constant rate.',
      )
    delete load.requests
    load.durationMs = overrides.durationMs
  }
  if (overrides.requests !== undefined) {
    if (load.stages)
      throw badInput(
        '--requests cannot be combined with a scenario that has stages',
        'Pass --rate to replace the stages with a constant rate.',
      )
    delete load.durationMs
    load.requests = overrides.requests
  }
  const warmupMs = overrides.warmupMs ?? load.warmupMs
  const timeoutMs = overrides.timeoutMs ?? load.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const counted = load.requests !== undefined

  let arrival: ArrivalPlan | undefined
  let durationMs: number | undefined
  if (load.stages) {
    arrival = { startRate: load.startRate ?? 0, stages: load.stages }
    durationMs = arrivalDurationMs(arrival) - warmupMs
    if (durationMs <= 0)
      throw badInput(
        `The warm-up (${warmupMs}ms) is as long as the stages; nothing would be measured`,
        'Shorten the warm-up or lengthen the stages.',
      )
  } else {
    durationMs = counted ? undefined : (load.durationMs ?? DEFAULT_DURATION_MS)
    if (load.rate !== undefined)
      arrival = constantArrival(load.rate, counted ? (load.maxDurationMs ?? DEFAULT_MAX_DURATION_MS) : warmupMs + durationMs!)
  }
  const peak = arrival ? Math.max(arrival.startRate, ...arrival.stages.map((stage) => stage.target)) : undefined

  const requested = overrides.workers ?? load.workers
  const workers = requested ?? autoWorkers(peak, machine)
  // open model: enough connections for 100 ms answers at the peak rate, unless told otherwise
  let connections =
    overrides.connections ?? load.connections ?? (peak !== undefined ? Math.min(1000, Math.max(10, Math.ceil(peak * 0.1))) : 10)
  if (workers > 0 && connections % workers !== 0) connections += workers - (connections % workers)
  if (workers > connections) connections = workers
  if (counted && load.requests! < 1) throw badInput('--requests must be at least 1')

  return {
    name: scenario.name,
    target,
    model: arrival ? 'open' : 'closed',
    connections,
    ...(arrival ? { arrival } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(counted ? { requests: load.requests } : {}),
    maxDurationMs: load.maxDurationMs ?? DEFAULT_MAX_DURATION_MS,
    warmupMs,
    timeoutMs,
    workers,
    seed: scenario.seed,
    specs: scenario.specs,
    thresholds: [...scenario.thresholds, ...(overrides.thresholds ?? [])],
  }
}

/**
 * Worker threads only when one thread cannot send the peak rate and the machine has a core for
 * each worker besides the main thread; one worker would only move the work, not share it.
 */
export function autoWorkers(peakRate: number | undefined, machine: Machine): number {
  if (peakRate === undefined) return 0
  const wanted = Math.ceil(peakRate / RATE_PER_THREAD)
  const workers = Math.min(wanted, machine.cores - 1)
  return workers >= 2 ? workers : 0
}

export interface QuickForm {
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string
  expectStatus?: number[]
}

/** The quick form `opsctl load URL` as a one-request scenario. */
export function quickScenario(form: QuickForm): Scenario {
  const url = new URL(form.url)
  const path = `${url.pathname}${url.search}` || '/'
  const spec: RequestSpec = {
    name: `${form.method ?? 'GET'} ${path}`,
    weight: 1,
    method: form.method ?? 'GET',
    path: literalTemplate(path),
    headers: Object.entries(form.headers ?? {}).map(([name, value]) => ({ name, value: literalTemplate(value) })),
    ...(form.body !== undefined ? { body: literalTemplate(form.body) } : {}),
    variables: {},
    expect: form.expectStatus ? { status: form.expectStatus } : {},
  }
  return {
    name: `${form.method ?? 'GET'} ${url.host}${path}`,
    target: url.origin,
    seed: 1,
    load: { warmupMs: 0, timeoutMs: DEFAULT_TIMEOUT_MS },
    specs: [spec],
    thresholds: [],
  }
}
