/** The pure parts of a rollout: the step planner and the canary's state machine, on plain data. */
import { describe, expect, it } from 'vitest'
import type { RolloutEvent } from '../../src/deploy/actions.js'
import { defaultAnalysis } from '../../src/deploy/analysis.js'
import { canaryTransition } from '../../src/deploy/canary-machine.js'
import { planSteps } from '../../src/deploy/plan.js'
import { ROLLOUT_KIND, ROLLOUT_SCHEMA, type CanaryState } from '../../src/deploy/rollout.js'
import type { WindowVerdict } from '../../src/deploy/window.js'

describe('planSteps', () => {
  it('reads weights with holds and adds the final 100%', () => {
    expect(planSteps('5,25:promote,50:2m', 30_000)).toEqual([
      { step: 1, weight: 5, hold: { kind: 'timed', ms: 30_000 } },
      { step: 2, weight: 25, hold: { kind: 'promotion' } },
      { step: 3, weight: 50, hold: { kind: 'timed', ms: 120_000 } },
      { step: 4, weight: 100, hold: { kind: 'timed', ms: 0 } },
    ])
  })

  it.each([
    ['50,20,100', /steps must increase: step 2 \(20%\) is not above step 1 \(50%\)/],
    ['5,150', /step 2: 150% is outside 1–100/],
    ['0,50', /step 1: 0% is outside 1–100/],
    ['5,,50', /step 2 is empty/],
    ['five', /step 1: "five" is not a whole percent/],
    ['5:soon', /step 1/],
    ['5:2m:3', /more than one ":"/],
  ])('refuses %s, naming the step', (text, message) => {
    expect(() => planSteps(text, 1000)).toThrow(message)
  })

  it('names the config key when the steps come from opsctl.yaml', () => {
    expect(() => planSteps(['20', '10'], 1000, 'deploy.steps')).toThrow(/^deploy\.steps: /)
  })
})

const T0 = Date.parse('2026-12-05T10:00:00.000Z')
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString()

function canary(overrides: Partial<CanaryState> = {}): CanaryState {
  return {
    kind: ROLLOUT_KIND,
    schema: ROLLOUT_SCHEMA,
    id: 'api-1',
    service: 'api',
    version: 'v2',
    strategy: 'canary',
    createdAt: at(0),
    updatedAt: at(0),
    status: 'pending',
    engine: { kind: 'builtin' },
    pool: 'default',
    hooks: {},
    hookTimeoutMs: 1000,
    drainTimeoutMs: 1000,
    instructionsSeen: 0,
    stable: { name: 'stable', address: 'http://127.0.0.1:1' },
    canary: { name: 'canary', address: 'http://127.0.0.1:2' },
    members: ['stable', 'canary'],
    steps: planSteps('20,50', 10_000),
    intervalMs: 10_000,
    analysis: defaultAnalysis({ minSamples: 100, maxInconclusive: 2 }),
    stepIndex: -1,
    weight: 0,
    inconclusiveStreak: 0,
    passesInStep: 0,
    windows: 0,
    verdicts: [],
    ...overrides,
  }
}

function windowVerdict(status: WindowVerdict['status'], reasons: string[] = []): WindowVerdict {
  const side = { backends: [], requests: 500, errors: 0, samples: 500, latencySource: 'samples' as const }
  return { status, reasons, from: at(0), to: at(10), complete: true, stable: side, canary: side, thresholds: [], notes: [] }
}

/** Feeds events in order, as the controller does, and returns the last state with every action taken. */
function drive(state: CanaryState, events: RolloutEvent[]) {
  const actions = []
  for (const event of events) {
    const next = canaryTransition(state, event)
    state = next.rollout
    actions.push(...next.actions)
  }
  return { state, actions }
}

const started = (state = canary()) =>
  drive(state, [
    { type: 'start', at: at(0) },
    { type: 'actions-done', at: at(0) },
  ])

describe('the canary state machine', () => {
  it('starts at the first step with its weights', () => {
    const { state, actions } = started()
    expect(state).toMatchObject({ status: 'progressing', stepIndex: 0, weight: 20 })
    expect(actions).toContainEqual(expect.objectContaining({ type: 'weights', weight: 20 }))
    expect(actions).toContainEqual(expect.objectContaining({ type: 'record', kind: 'deploy.started' }))
  })

  it('asks for an analysis every interval, and moves on after a passing window once the hold is over', () => {
    let { state } = started()
    let step = canaryTransition(state, { type: 'tick', at: at(5) })
    expect(step.actions).toEqual([])
    step = canaryTransition(step.rollout, { type: 'tick', at: at(10) })
    expect(step.actions).toEqual([{ type: 'analyse', from: at(0), to: at(10) }])
    step = canaryTransition(step.rollout, { type: 'verdict', at: at(10), verdict: windowVerdict('pass') })
    state = step.rollout
    expect(state).toMatchObject({ stepIndex: 1, weight: 50, windows: 1 })
    expect(step.actions).toContainEqual(expect.objectContaining({ type: 'record', kind: 'deploy.verdict' }))
  })

  it('opens the first window after the warm-up', () => {
    const { state } = started(canary({ warmupMs: 3000 }))
    expect(state.windowStartedAt).toBe(at(3))
    expect(canaryTransition(state, { type: 'tick', at: at(10) }).actions).toEqual([])
    expect(canaryTransition(state, { type: 'tick', at: at(13) }).actions).toEqual([{ type: 'analyse', from: at(3), to: at(13) }])
  })

  it('rolls back on a failed window: canary weight 0, drained, the flag killed, the verdict recorded', () => {
    const { state } = started(canary({ killFlag: 'checkout.v2' }))
    const failed = canaryTransition(state, { type: 'verdict', at: at(10), verdict: windowVerdict('fail', ['errors: 5% vs 0%']) })
    expect(failed.rollout.status).toBe('rolling-back')
    expect(failed.rollout.outcome?.reason).toMatch(/errors: 5% vs 0%/)
    expect(failed.actions).toContainEqual(expect.objectContaining({ type: 'weights', weight: 0 }))
    expect(failed.actions).toContainEqual({ type: 'drain', backend: 'canary' })
    expect(failed.actions).toContainEqual(expect.objectContaining({ type: 'kill-flag', flag: 'checkout.v2' }))
    const done = canaryTransition(failed.rollout, { type: 'actions-done', at: at(11) })
    expect(done.rollout.status).toBe('rolled-back')
  })

  it('rolls back when a step hook fails (the executor reports it as a failure), canary weight 0', () => {
    const { state } = started()
    const failed = canaryTransition(state, { type: 'failure', at: at(5), reason: 'step hook "./smoke.sh" exited 3' })
    expect(failed.rollout.status).toBe('rolling-back')
    expect(failed.actions).toContainEqual(expect.objectContaining({ type: 'weights', weight: 0 }))
    expect(canaryTransition(failed.rollout, { type: 'actions-done', at: at(6) }).rollout.outcome?.reason).toMatch(/smoke\.sh/)
  })

  it('pauses, never promotes, after too many inconclusive windows in a row', () => {
    const { state } = started()
    const result = drive(state, [
      { type: 'verdict', at: at(10), verdict: windowVerdict('inconclusive', ['30 requests against 10,000']) },
      { type: 'verdict', at: at(20), verdict: windowVerdict('inconclusive', ['30 requests against 10,000']) },
    ])
    expect(result.state.status).toBe('paused')
    expect(result.state.pause).toMatchObject({ kind: 'inconclusive' })
    expect(result.state.pause!.reason).toMatch(/2 inconclusive analysis windows in a row/)
    expect(result.state.weight).toBe(20)
  })

  it('holds a step for promotion, and promote --full goes straight to 100%', () => {
    const { state } = started(canary({ steps: planSteps('20:promote,50', 10_000) }))
    const waiting = canaryTransition(state, { type: 'verdict', at: at(10), verdict: windowVerdict('pass') })
    expect(waiting.rollout.pause).toMatchObject({ kind: 'promotion' })
    const promoted = canaryTransition(waiting.rollout, { type: 'promote', at: at(11), full: true })
    expect(promoted.rollout).toMatchObject({ status: 'promoting', weight: 100 })
    expect(canaryTransition(promoted.rollout, { type: 'actions-done', at: at(12) }).rollout.status).toBe('promoted')
  })

  it('pauses and resumes by hand, and a finished rollout ignores the rest', () => {
    const { state } = started()
    const paused = canaryTransition(state, { type: 'pause', at: at(2), reason: 'looking' })
    expect(paused.rollout.status).toBe('paused')
    expect(canaryTransition(paused.rollout, { type: 'tick', at: at(30) }).actions).toEqual([])
    const resumed = canaryTransition(paused.rollout, { type: 'resume', at: at(31), reason: 'ok' })
    expect(resumed.rollout).toMatchObject({ status: 'progressing', windowStartedAt: at(31) })
    const aborted = drive(resumed.rollout, [
      { type: 'abort', at: at(32), reason: 'wrong build' },
      { type: 'actions-done', at: at(33) },
    ])
    expect(aborted.state.status).toBe('aborted')
    const after = canaryTransition(aborted.state, { type: 'promote', at: at(34) })
    expect(after.actions).toEqual([])
    expect(after.notes).toEqual(['rollout api-1 is aborted: nothing to do'])
    expect(canaryTransition(aborted.state, { type: 'actions-done', at: at(34) }).notes).toBeUndefined()
  })

  it('leaves a moving rollout paused when its controller stops (Ctrl-C), for deploy resume', () => {
    const { state } = started()
    const stopped = canaryTransition(state, { type: 'controller-stopped', at: at(3) })
    expect(stopped.rollout.pause).toMatchObject({ kind: 'controller' })
  })
})
