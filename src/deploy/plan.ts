/**
 * The step planner: from `5,25:promote,50:2m,100` to steps (weight and how long each is held),
 * and from a step's weight to the pool's weights. Pure; every mistake names where it came from
 * (`--steps`, or `deploy.steps` in opsctl.yaml).
 */
import { badInput, parseDuration } from '../core/index.js'

/** How long a step holds its weight: a time (at least one passing analysis window), or until someone promotes it. */
export type StepHold = { kind: 'timed'; ms: number } | { kind: 'promotion' }

export interface PlannedStep {
  /** 1-based, as printed and recorded. */
  step: number
  /** Percent of the pool's traffic to the new version. */
  weight: number
  hold: StepHold
}

/**
 * Steps from text (`5,25,50,100`) or a list (`[5, '25:promote', '50:2m', 100]`). Weights are whole
 * percents from 1 to 100, strictly increasing; `W:promote` holds until `deploy promote`, `W:2m`
 * holds two minutes (default: `defaultHoldMs`). The last step is 100 (added when absent): a canary
 * that passed every step takes all of the traffic.
 */
export function planSteps(input: string | ReadonlyArray<string | number>, defaultHoldMs: number, source = '--steps'): PlannedStep[] {
  const items = typeof input === 'string' ? input.split(',') : input.map((item) => String(item))
  const steps: PlannedStep[] = []
  for (const [index, raw] of items.entries()) {
    const item = raw.trim()
    if (item === '') {
      if (typeof input === 'string' && index === items.length - 1 && index > 0) continue // a trailing comma
      throw badInput(`${source}: step ${index + 1} is empty`, 'Give weights separated by commas, e.g. 5,25,50,100.')
    }
    const [weightText = '', holdText, extra] = item.split(':').map((part) => part.trim())
    if (extra !== undefined)
      throw badInput(`${source}: step "${item}" has more than one ":"`, 'A step is WEIGHT, WEIGHT:DURATION or WEIGHT:promote.')
    const weight = parseStepWeight(weightText, `${source}: step ${index + 1}`)
    const previous = steps.at(-1)
    if (previous && weight <= previous.weight)
      throw badInput(
        `${source}: steps must increase: step ${index + 1} (${weight}%) is not above step ${index} (${previous.weight}%)`,
        'e.g. 5,25,50,100',
      )
    steps.push({ step: steps.length + 1, weight, hold: parseHold(holdText, defaultHoldMs, `${source}: step ${index + 1}`) })
  }
  if (steps.length === 0) throw badInput(`${source}: no steps`, 'e.g. 5,25,50,100')
  if (steps.at(-1)!.weight !== 100) steps.push({ step: steps.length + 1, weight: 100, hold: { kind: 'timed', ms: 0 } })
  return steps
}

function parseStepWeight(text: string, what: string): number {
  const trimmed = text.replace(/%$/, '').trim()
  if (!/^\d+$/.test(trimmed))
    throw badInput(`${what}: "${text}" is not a whole percent`, 'Weights are whole percents from 1 to 100, e.g. 5,25,50,100.')
  const weight = Number(trimmed)
  if (weight < 1 || weight > 100)
    throw badInput(`${what}: ${weight}% is outside 1–100`, 'Weights are whole percents from 1 to 100, e.g. 5,25,50,100.')
  return weight
}

function parseHold(text: string | undefined, defaultMs: number, what: string): StepHold {
  if (text === undefined || text === '') return { kind: 'timed', ms: defaultMs }
  if (/^(promote|pause|manual)$/i.test(text)) return { kind: 'promotion' }
  try {
    return { kind: 'timed', ms: parseDuration(text, what) }
  } catch {
    throw badInput(`${what}: "${text}" is neither a duration (30s, 2m) nor "promote"`, 'e.g. 5,25:promote,50:2m,100')
  }
}

/** The steps as one line: `5% → 25% (until promoted) → 50% (2m) → 100%`. */
export function describeSteps(steps: readonly PlannedStep[], defaultHoldMs?: number): string {
  return steps
    .map((step) => {
      if (step.hold.kind === 'promotion') return `${step.weight}% (until promoted)`
      if (step.weight === 100 || step.hold.ms === defaultHoldMs) return `${step.weight}%`
      return `${step.weight}% (${formatMs(step.hold.ms)})`
    })
    .join(' → ')
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

export interface PoolSides {
  /** Every backend of the pool, in the engine's order. */
  members: readonly string[]
  stable: string
  canary: string
}

/** The pool's weights for a canary weight: the canary gets it, stable the rest, any other backend 0. */
export function poolWeights(sides: PoolSides, canaryWeight: number): Record<string, number> {
  return Object.fromEntries(
    sides.members.map((name) => [name, name === sides.canary ? canaryWeight : name === sides.stable ? 100 - canaryWeight : 0]),
  )
}
