/**
 * The canary (and strangler-fig) state machine: a pure function from a rollout and an event to
 * the next rollout and the actions that carry it out (weights, drains, hooks, analyses, journal
 * records). No clock, no I/O: every event carries its time, so a rollout replays the same way in
 * a test as on a host. The controller runs the actions in order and feeds back what they found
 * (a window's verdict, a failing hook) as events.
 *
 *   pending ──actions done──▶ progressing ⇄ paused(manual | promotion | inconclusive | controller)
 *   progressing ──last step passed, or promote --full──▶ promoting ──actions done──▶ promoted
 *   any live state ──fail verdict | failure | rollback | abort──▶ rolling-back ──▶ rolled-back | aborted
 *   pending ──pre-rollout hook fails──▶ rolling-back ──▶ failed (no traffic had moved)
 *
 * Crash safety: the state is saved after every transition, before its actions run, and every
 * action is idempotent; a new controller sends `resume`, which repeats what the state says should
 * be true (the step's weights, an unfinished rollback or promotion).
 */
import type { CanaryEvent, RolloutAction, Transition } from './actions.js'
import { ASKED } from './actions.js'
import { deployEvents } from './events.js'
import { poolWeights } from './plan.js'
import { isTerminal, type CanaryState, type PauseKind, type VerdictDigest } from './rollout.js'
import type { WindowVerdict } from './window.js'

const KEEP_VERDICTS = 20

export function canaryTransition(rollout: CanaryState, event: CanaryEvent): Transition<CanaryState> {
  const at = event.at
  const next: CanaryState = { ...rollout, updatedAt: at }
  if (event.type === 'rollback' && rollout.status === 'promoted') {
    // after the fact (a bad deploy found later): all traffic back to the old version, if it is still there
    const rolled = startRollback(next, 'rolled-back', event.reason, at)
    return { ...rolled, actions: [{ type: 'ready', backend: rollout.stable.name }, ...rolled.actions] }
  }
  // A finished rollout ignores everything; only what a person asked for gets an answer.
  if (isTerminal(rollout.status))
    return {
      rollout,
      actions: [],
      ...(ASKED.has(event.type) ? { notes: [`rollout ${rollout.id} is ${rollout.status}: nothing to do`] } : {}),
    }

  switch (event.type) {
    case 'start':
      if (rollout.status !== 'pending') return { rollout, actions: [] }
      return { rollout: next, actions: startActions(next) }

    case 'actions-done':
      if (rollout.status === 'pending') return enterStep(next, 0, at)
      if (rollout.status === 'promoting') return finish(next, 'promoted', 'every step passed: 100% of traffic on the new version', at)
      if (rollout.status === 'rolling-back')
        return finish(next, rollout.ending ?? 'rolled-back', rollout.outcome?.reason ?? 'rolled back', at)
      return { rollout, actions: [] }

    case 'tick':
      return tick(next, at)

    case 'verdict':
      return onVerdict(next, event.verdict, at)

    case 'promote': {
      if (rollout.status === 'pending' || rollout.status === 'promoting' || rollout.status === 'rolling-back')
        return { rollout, actions: [], notes: [`cannot promote while ${rollout.status}`] }
      delete next.pause
      next.status = 'progressing'
      if (event.full) return promote(next)
      return advance(next, at, true)
    }

    case 'pause':
      if (rollout.status !== 'progressing' && rollout.status !== 'paused')
        return { rollout, actions: [], notes: [`cannot pause while ${rollout.status}`] }
      return pause(next, 'manual', event.reason, at)

    case 'resume':
      return resume(next, event.reason, at)

    case 'abort':
      return startRollback(next, 'aborted', event.reason, at)

    case 'rollback':
      return startRollback(next, 'rolled-back', event.reason, at)

    case 'failure':
      return startRollback(next, rollout.status === 'pending' ? 'failed' : 'rolled-back', event.reason, at)

    case 'controller-stopped':
      if (
        rollout.status === 'progressing' ||
        rollout.status === 'pending' ||
        (rollout.status === 'paused' && rollout.pause?.kind === 'promotion')
      )
        return pause(next, 'controller', 'controller stopped', at)
      return { rollout, actions: [] }
  }
}

function startActions(rollout: CanaryState): RolloutAction[] {
  return [
    record(rollout, deployEvents.started.kind, {
      version: rollout.version,
      strategy: rollout.strategy,
      from: rollout.stable.address,
      to: rollout.canary.address,
      stable: rollout.stable.name,
      canary: rollout.canary.name,
      pool: rollout.pool,
      ...(rollout.route ? { route: rollout.route } : {}),
      steps: rollout.steps.map((step) => step.weight),
      intervalMs: rollout.intervalMs,
      ...(rollout.analysis.file ? { analysis: rollout.analysis.file } : {}),
    }),
    { type: 'ready', backend: rollout.canary.name },
    { type: 'hook', phase: 'pre-rollout', fails: true },
  ]
}

function enterStep(rollout: CanaryState, index: number, at: string): Transition<CanaryState> {
  const step = rollout.steps[index]!
  if (step.weight === 100) return promote(rollout)
  Object.assign(rollout, {
    status: 'progressing',
    stepIndex: index,
    weight: step.weight,
    stepStartedAt: at,
    windowStartedAt: afterWarmup(rollout, at),
    passesInStep: 0,
    inconclusiveStreak: 0,
  })
  delete rollout.lastInStep
  delete rollout.pause
  return {
    rollout,
    actions: [
      weightsAction(rollout, step.weight),
      record(rollout, deployEvents.step.kind, { step: step.step, weight: step.weight, hold: step.hold }),
      { type: 'hook', phase: 'step', fails: true },
    ],
  }
}

function promote(rollout: CanaryState): Transition<CanaryState> {
  Object.assign(rollout, { status: 'promoting', weight: 100, stepIndex: rollout.steps.length - 1 })
  delete rollout.pause
  return {
    rollout,
    actions: [
      weightsAction(rollout, 100),
      record(rollout, deployEvents.promoted.kind, { weight: 100, windows: rollout.windows }),
      { type: 'hook', phase: 'promoted', fails: false },
    ],
  }
}

function finish(rollout: CanaryState, status: CanaryState['status'], reason: string, at: string): Transition<CanaryState> {
  rollout.status = status
  delete rollout.ending
  delete rollout.pause
  rollout.outcome = { ...rollout.outcome, status, reason: rollout.outcome?.reason ?? reason, at }
  return { rollout, actions: [] }
}

/** Where the first window after a weight change opens: the warm-up is not judged. */
function afterWarmup(rollout: CanaryState, at: string): string {
  return rollout.warmupMs ? new Date(Date.parse(at) + rollout.warmupMs).toISOString() : at
}

/** Analyses are due every interval while the canary takes traffic (also while awaiting promotion). */
function analysing(rollout: CanaryState): boolean {
  return rollout.status === 'progressing' || (rollout.status === 'paused' && rollout.pause?.kind === 'promotion')
}

function tick(rollout: CanaryState, at: string): Transition<CanaryState> {
  if (!analysing(rollout) || !rollout.windowStartedAt) return { rollout, actions: [] }
  if (Date.parse(at) - Date.parse(rollout.windowStartedAt) >= rollout.intervalMs) {
    const from = rollout.windowStartedAt
    rollout.windowStartedAt = at
    return { rollout, actions: [{ type: 'analyse', from, to: at }] }
  }
  return rollout.status === 'progressing' ? advance(rollout, at, false) : { rollout, actions: [] }
}

function onVerdict(rollout: CanaryState, verdict: WindowVerdict, at: string): Transition<CanaryState> {
  if (!analysing(rollout)) return { rollout, actions: [] }
  const step = rollout.steps[rollout.stepIndex]!
  const digest = digestOf(verdict, step.step, rollout.weight, at)
  rollout.windows++
  rollout.verdicts = [...rollout.verdicts, digest].slice(-KEEP_VERDICTS)
  rollout.lastInStep = verdict.status
  const recorded = record(rollout, deployEvents.verdict.kind, {
    verdict: verdict.status,
    reason: verdict.reasons.join('; '),
    step: step.step,
    weight: rollout.weight,
    window: { from: verdict.from, to: verdict.to, complete: verdict.complete },
    stable: verdict.stable,
    canary: verdict.canary,
    ...(verdict.judge ? { judge: verdict.judge } : {}),
    thresholds: verdict.thresholds,
    ...(verdict.notes.length ? { notes: verdict.notes } : {}),
  })
  if (verdict.status === 'fail') {
    const rolled = startRollback(
      rollout,
      'rolled-back',
      `canary failed its analysis at step ${step.step} (${rollout.weight}%): ${verdict.reasons.join('; ')}`,
      at,
      digest,
    )
    return { ...rolled, actions: [recorded, ...rolled.actions] }
  }
  if (verdict.status === 'inconclusive') {
    rollout.inconclusiveStreak++
    if (rollout.status === 'progressing' && rollout.inconclusiveStreak >= rollout.analysis.maxInconclusive) {
      const reason =
        `${rollout.inconclusiveStreak} inconclusive analysis window${rollout.inconclusiveStreak === 1 ? '' : 's'} in a row at step ${step.step} (${rollout.weight}%): ` +
        verdict.reasons.join('; ')
      const paused = pause(rollout, 'inconclusive', reason, at)
      return { ...paused, actions: [recorded, ...paused.actions] }
    }
    return { rollout, actions: [recorded] }
  }
  rollout.inconclusiveStreak = 0
  rollout.passesInStep++
  if (rollout.status !== 'progressing') return { rollout, actions: [recorded] }
  const advanced = advance(rollout, at, false)
  return { ...advanced, actions: [recorded, ...advanced.actions] }
}

/**
 * Next step when the current one is done: its hold has passed and its last window passed (or
 * someone promoted it: `forced`). A step held for promotion pauses instead, still analysed.
 */
function advance(rollout: CanaryState, at: string, forced: boolean): Transition<CanaryState> {
  const step = rollout.steps[rollout.stepIndex]
  if (!step) return { rollout, actions: [] }
  if (!forced) {
    if (rollout.lastInStep !== 'pass') return { rollout, actions: [] }
    if (step.hold.kind === 'promotion')
      return pause(
        rollout,
        'promotion',
        `awaiting promotion at step ${step.step} (${step.weight}%): opsctl deploy promote ${rollout.id}`,
        at,
      )
    if (Date.parse(at) - Date.parse(rollout.stepStartedAt ?? at) < step.hold.ms) return { rollout, actions: [] }
  }
  return enterStep(rollout, rollout.stepIndex + 1, at)
}

function pause(rollout: CanaryState, kind: PauseKind, reason: string, at: string): Transition<CanaryState> {
  rollout.status = 'paused'
  rollout.pause = { kind, reason, at }
  return {
    rollout,
    actions: [
      record(rollout, deployEvents.paused.kind, {
        reason,
        pause: kind,
        step: rollout.steps[rollout.stepIndex]?.step ?? 0,
        weight: rollout.weight,
      }),
    ],
  }
}

function resume(rollout: CanaryState, reason: string, at: string): Transition<CanaryState> {
  const resumed = record(rollout, deployEvents.resumed.kind, {
    reason,
    step: rollout.steps[rollout.stepIndex]?.step ?? 0,
    weight: rollout.weight,
  })
  switch (rollout.status) {
    case 'pending':
      return { rollout, actions: [resumed, ...startActions(rollout).slice(1)] }
    case 'promoting':
      return { rollout, actions: [resumed, ...promote(rollout).actions] }
    case 'rolling-back':
      return {
        rollout,
        actions: [resumed, ...rollbackActions(rollout, rollout.ending ?? 'rolled-back', rollout.outcome?.reason ?? 'rolled back')],
      }
    case 'paused':
      if (rollout.pause?.kind === 'promotion') {
        const promoted = advance({ ...rollout, status: 'progressing' }, at, true)
        return { ...promoted, actions: [resumed, ...promoted.actions] }
      }
      break
    case 'progressing':
      break
    default:
      return { rollout, actions: [] }
  }
  // A fresh start of the step: a new window and hold from now, the step's weights asserted again.
  rollout.status = 'progressing'
  delete rollout.pause
  rollout.inconclusiveStreak = 0
  rollout.stepStartedAt = at
  rollout.windowStartedAt = afterWarmup(rollout, at)
  return { rollout, actions: [resumed, weightsAction(rollout, rollout.weight)] }
}

function startRollback(
  rollout: CanaryState,
  ending: 'rolled-back' | 'aborted' | 'failed',
  reason: string,
  at: string,
  verdict?: VerdictDigest,
): Transition<CanaryState> {
  if (rollout.status === 'rolling-back') return { rollout, actions: [], notes: ['already rolling back'] }
  rollout.status = 'rolling-back'
  rollout.ending = ending
  delete rollout.pause
  rollout.outcome = { status: ending, reason, at, ...(verdict ? { verdict } : {}) }
  const actions = rollbackActions(rollout, ending, reason)
  rollout.weight = 0
  return { rollout, actions }
}

/** Canary to 0 at once, then the hook and the flag, then the drain; the record last, with what they found. */
function rollbackActions(rollout: CanaryState, ending: 'rolled-back' | 'aborted' | 'failed', reason: string): RolloutAction[] {
  const kind =
    ending === 'aborted' ? deployEvents.aborted.kind : ending === 'failed' ? deployEvents.failed.kind : deployEvents.rollback.kind
  return [
    weightsAction(rollout, 0, false),
    { type: 'hook', phase: 'rollback', fails: false },
    ...(rollout.killFlag && ending !== 'failed'
      ? [{ type: 'kill-flag' as const, flag: rollout.killFlag, reason: `rollout ${rollout.id}: ${reason}` }]
      : []),
    { type: 'drain', backend: rollout.canary.name },
    record(rollout, kind, {
      reason,
      to: rollout.stable.address,
      step: rollout.steps[rollout.stepIndex]?.step ?? 0,
      weight: rollout.weight,
      ...(rollout.outcome?.verdict ? { verdict: rollout.outcome.verdict } : {}),
    }),
  ]
}

function weightsAction(rollout: CanaryState, weight: number, keep = true): RolloutAction {
  if (keep) rollout.weight = weight
  return {
    type: 'weights',
    weight,
    weights: poolWeights({ members: rollout.members, stable: rollout.stable.name, canary: rollout.canary.name }, weight),
  }
}

function record(rollout: CanaryState, kind: string, data: Record<string, unknown>): RolloutAction {
  return { type: 'record', kind, data: { rollout: rollout.id, ...data } }
}

export function digestOf(verdict: WindowVerdict, step: number, weight: number, at: string): VerdictDigest {
  const pick = (side: WindowVerdict['canary']) => ({
    requests: side.requests,
    errors: side.errors,
    samples: side.samples,
    ...(side.p50 === undefined ? {} : { p50: side.p50 }),
    ...(side.p99 === undefined ? {} : { p99: side.p99 }),
  })
  return {
    at,
    step,
    weight,
    status: verdict.status,
    reasons: verdict.reasons.slice(0, 6),
    canary: pick(verdict.canary),
    stable: pick(verdict.stable),
  }
}
