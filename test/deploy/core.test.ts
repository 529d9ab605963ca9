/** The rest of the rollout core on plain data: threshold rules, blue/green's machine, the state store and hooks. */
import { describe, expect, it } from 'vitest'
import type { ThresholdMetricName, ThresholdRule } from '../../src/deploy/analysis.js'
import { blueGreenTransition } from '../../src/deploy/bluegreen-machine.js'
import { runHook } from '../../src/deploy/hooks.js'
import { defaultAnalysis } from '../../src/deploy/analysis.js'
import { rollingTransition } from '../../src/deploy/rolling-machine.js'
import { ROLLOUT_KIND, ROLLOUT_SCHEMA, type BlueGreenState, type RollingState } from '../../src/deploy/rollout.js'
import type { WindowVerdict } from '../../src/deploy/window.js'
import { appendInstruction, createRollout, deployPaths, readInstructions, readRollout, saveRollout } from '../../src/deploy/store.js'
import { evaluateThresholds, type SideValues } from '../../src/deploy/thresholds.js'
import { makeTempDir } from '../helpers/temp.js'

const T0 = Date.parse('2026-12-05T10:00:00.000Z')
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString()

function side(requests: number, metrics: Partial<Record<ThresholdMetricName, number>>, series: Record<string, number> = {}): SideValues {
  return { requests, metric: (name) => metrics[name], prometheus: (selector) => series[selector] }
}

const rule = (metric: ThresholdMetricName, limits: Omit<ThresholdRule, 'name' | 'source'>): ThresholdRule => ({
  name: metric,
  source: { kind: 'router', metric },
  ...limits,
})

describe('threshold rules', () => {
  it('passes within an absolute limit and fails above it, with the numbers', () => {
    const rules = [rule('error_rate', { max: 0.02 })]
    const ok = evaluateThresholds(rules, { canary: side(500, { error_rate: 0.01 }), stable: side(500, {}) }, 100)
    expect(ok.status).toBe('pass')
    const bad = evaluateThresholds(rules, { canary: side(500, { error_rate: 0.05 }), stable: side(500, {}) }, 100)
    expect(bad.status).toBe('fail')
    expect(bad.reasons).toEqual(['threshold error_rate: 5% > max 2%'])
  })

  it('compares with stable over the same window for maxIncrease', () => {
    const rules = [rule('p99', { maxIncrease: 0.25 })]
    const within = evaluateThresholds(rules, { canary: side(500, { p99: 120 }), stable: side(500, { p99: 100 }) }, 100)
    expect(within.status).toBe('pass')
    const above = evaluateThresholds(rules, { canary: side(500, { p99: 150 }), stable: side(500, { p99: 100 }) }, 100)
    expect(above.status).toBe('fail')
    expect(above.reasons[0]).toContain('+50.0% > max increase 25%')
  })

  it('is inconclusive, never a pass, with too few requests or a missing series; a failure outranks it', () => {
    const few = evaluateThresholds([rule('p99', { max: 500 })], { canary: side(20, { p99: 10 }), stable: side(500, {}) }, 100)
    expect(few.status).toBe('inconclusive')
    expect(few.reasons[0]).toMatch(/too few canary requests to judge: 20, at least 100/)
    const series: ThresholdRule = {
      name: 'queue',
      source: { kind: 'prometheus', selector: { text: 'queue_depth', name: 'queue_depth', labels: {} }, type: 'gauge' },
      max: 10,
    }
    const missing = evaluateThresholds([series], { canary: side(500, {}), stable: side(500, {}) }, 100)
    expect(missing.status).toBe('inconclusive')
    expect(missing.reasons[0]).toMatch(/does not expose queue_depth/)
    const both = evaluateThresholds(
      [series, rule('error_rate', { max: 0.01 })],
      { canary: side(500, { error_rate: 0.1 }), stable: side(500, {}) },
      100,
    )
    expect(both.status).toBe('fail')
  })
})

function blueGreen(overrides: Partial<BlueGreenState> = {}): BlueGreenState {
  return {
    kind: ROLLOUT_KIND,
    schema: ROLLOUT_SCHEMA,
    id: 'web-1',
    service: 'web',
    version: 'v2',
    strategy: 'bluegreen',
    createdAt: at(0),
    updatedAt: at(0),
    status: 'pending',
    engine: { kind: 'builtin' },
    pool: 'default',
    hooks: {},
    hookTimeoutMs: 1000,
    drainTimeoutMs: 1000,
    instructionsSeen: 0,
    active: { name: 'blue', address: 'http://127.0.0.1:1' },
    preview: { name: 'green', address: 'http://127.0.0.1:2' },
    members: ['blue', 'green'],
    healthPath: '/health',
    healthTimeoutMs: 1000,
    keepMs: 60_000,
    phase: 'checking',
    checks: [],
    ...overrides,
  }
}

describe('the blue/green state machine', () => {
  it('checks the preview with no traffic on it, switches at once, keeps the old side, then releases it', () => {
    let step = blueGreenTransition(blueGreen(), { type: 'start', at: at(0) })
    expect(step.actions).toContainEqual({ type: 'weights', weights: { blue: 100, green: 0 }, weight: 0 })
    expect(step.actions.map((action) => action.type)).toContain('health')
    step = blueGreenTransition(step.rollout, { type: 'actions-done', at: at(1) })
    expect(step.rollout).toMatchObject({ status: 'progressing', phase: 'switched', keepUntil: at(61) })
    expect(step.actions[0]).toEqual({ type: 'weights', weights: { blue: 0, green: 100 }, weight: 100 })
    expect(blueGreenTransition(step.rollout, { type: 'tick', at: at(30) }).actions).toEqual([])
    step = blueGreenTransition(step.rollout, { type: 'tick', at: at(61) })
    expect(step.actions[0]).toEqual({ type: 'drain', backend: 'blue' })
    step = blueGreenTransition(step.rollout, { type: 'actions-done', at: at(62) })
    expect(step.rollout.status).toBe('completed')
  })

  it('fails with no traffic moved when a check fails before the switch', () => {
    const started = blueGreenTransition(blueGreen(), { type: 'start', at: at(0) })
    const failed = blueGreenTransition(started.rollout, { type: 'failure', at: at(1), reason: 'smoke: 3% errors' })
    expect(failed.rollout.status).toBe('rolling-back')
    expect(failed.actions).toContainEqual({ type: 'weights', weights: { blue: 100, green: 0 }, weight: 0 })
    expect(failed.actions).toContainEqual({ type: 'drain', backend: 'green' })
    const done = blueGreenTransition(failed.rollout, { type: 'actions-done', at: at(2) })
    expect(done.rollout.status).toBe('failed')
    expect(done.rollout.outcome?.reason).toBe('smoke: 3% errors')
  })

  it('rolls back in one weight change while the old side is kept', () => {
    const started = blueGreenTransition(blueGreen(), { type: 'start', at: at(0) })
    const switched = blueGreenTransition(started.rollout, { type: 'actions-done', at: at(1) })
    const back = blueGreenTransition(switched.rollout, { type: 'rollback', at: at(5), reason: 'by hand' })
    expect(back.actions.filter((action) => action.type === 'weights')).toEqual([
      { type: 'weights', weights: { blue: 100, green: 0 }, weight: 0 },
    ])
    expect(back.actions.map((action) => action.type)).not.toContain('health')
    expect(blueGreenTransition(back.rollout, { type: 'actions-done', at: at(6) }).rollout.status).toBe('rolled-back')
  })

  it('leaves a checking rollout paused when its controller stops, and answers a finished one with a note', () => {
    const started = blueGreenTransition(blueGreen(), { type: 'start', at: at(0) })
    const stopped = blueGreenTransition(started.rollout, { type: 'controller-stopped', at: at(1) })
    expect(stopped.rollout).toMatchObject({ status: 'paused', pause: { kind: 'controller' } })
    const finished = blueGreen({ status: 'failed' })
    const asked = blueGreenTransition(finished, { type: 'abort', at: at(2), reason: 'x' })
    expect(asked.actions).toEqual([])
    expect(asked.notes).toEqual(['rollout web-1 is failed: nothing to do'])
  })
})

function rolling(overrides: Partial<RollingState> = {}): RollingState {
  const instance = (n: number) => ({ name: `api-${n}`, address: `http://127.0.0.1:${9000 + n}`, status: 'pending' as const })
  return {
    kind: ROLLOUT_KIND,
    schema: ROLLOUT_SCHEMA,
    id: 'api-1',
    service: 'api',
    version: 'v2',
    strategy: 'rolling',
    createdAt: at(0),
    updatedAt: at(0),
    status: 'pending',
    engine: { kind: 'builtin' },
    pool: 'default',
    hooks: {},
    hookTimeoutMs: 1000,
    drainTimeoutMs: 1000,
    instructionsSeen: 0,
    instances: [instance(1), instance(2), instance(3)],
    command: './replace.sh',
    maxUnavailable: 1,
    intervalMs: 10_000,
    analysis: defaultAnalysis({ minSamples: 100, maxInconclusive: 2 }),
    healthPath: '/health',
    healthTimeoutMs: 1000,
    commandTimeoutMs: 1000,
    batch: [],
    inconclusiveStreak: 0,
    windows: 0,
    verdicts: [],
    ...overrides,
  }
}

function windowVerdict(status: WindowVerdict['status'], reasons: string[] = []): WindowVerdict {
  const summary = { backends: [], requests: 500, errors: 0, samples: 500, latencySource: 'samples' as const }
  return { status, reasons, from: at(0), to: at(10), complete: true, stable: summary, canary: summary, thresholds: [], notes: [] }
}

describe('the rolling state machine', () => {
  const begun = () => {
    const started = rollingTransition(rolling(), { type: 'start', at: at(0) })
    const batch = rollingTransition(started.rollout, { type: 'actions-done', at: at(1) })
    return rollingTransition(batch.rollout, { type: 'actions-done', at: at(2) })
  }

  it('replaces maxUnavailable instances at a time: drain, command, health, back in rotation, then judged', () => {
    const started = rollingTransition(rolling(), { type: 'start', at: at(0) })
    const batch = rollingTransition(started.rollout, { type: 'actions-done', at: at(1) })
    expect(batch.rollout.batch).toEqual(['api-1'])
    expect(batch.actions.map((action) => action.type)).toEqual(['hook', 'drain', 'replace', 'health', 'ready'])
    const analysing = rollingTransition(batch.rollout, { type: 'actions-done', at: at(2) })
    expect(analysing.rollout).toMatchObject({ phase: 'analysing', windowStartedAt: at(2) })
    const next = rollingTransition(analysing.rollout, { type: 'verdict', at: at(12), verdict: windowVerdict('pass') })
    expect(next.rollout.batch).toEqual(['api-2'])
    expect(next.rollout.instances.map((instance) => instance.status)).toEqual(['replaced', 'replacing', 'pending'])
  })

  it('halts on a failed window: the failed instance leaves rotation, the rest untouched', () => {
    const failed = rollingTransition(begun().rollout, { type: 'verdict', at: at(12), verdict: windowVerdict('fail', ['errors: 4% vs 0%']) })
    expect(failed.rollout.status).toBe('halted')
    expect(failed.rollout.outcome?.reason).toMatch(/api-1 failed the analysis.*errors: 4% vs 0%/)
    expect(failed.actions).toContainEqual({ type: 'drain', backend: 'api-1' })
    expect(failed.rollout.instances.map((instance) => instance.status)).toEqual(['failed', 'pending', 'pending'])
    expect(failed.actions.filter((action) => action.type === 'replace')).toEqual([])
  })

  it('pauses with a reason after too many inconclusive windows, and has nothing to roll back', () => {
    let state = begun().rollout
    for (const second of [12, 22])
      state = rollingTransition(state, { type: 'verdict', at: at(second), verdict: windowVerdict('inconclusive', ['thin']) }).rollout
    expect(state.status).toBe('paused')
    expect(state.pause).toMatchObject({ kind: 'inconclusive' })
    expect(state.pause!.reason).toMatch(/2 inconclusive analysis window\(s\) in a row after replacing api-1/)
    expect(rollingTransition(state, { type: 'rollback', at: at(23), reason: 'x' }).notes).toEqual([
      'a rolling rollout has nothing to rollback',
    ])
  })
})

describe('the state store', () => {
  it('keeps a rollout across a restart (a fresh read from disk) and numbers rollouts per service', () => {
    const paths = deployPaths(makeTempDir())
    const first = createRollout(paths, 'web', (id) => blueGreen({ id }))
    const second = createRollout(paths, 'web', (id) => blueGreen({ id }))
    expect([first.id, second.id]).toEqual(['web-1', 'web-2'])
    saveRollout(paths, { ...first, status: 'paused', pause: { kind: 'manual', reason: 'lunch', at: at(3) } })
    expect(readRollout(paths, 'web-1')).toMatchObject({ status: 'paused', pause: { reason: 'lunch' } })
  })

  it('reads instructions from other terminals in order, a torn line as nothing', () => {
    const paths = deployPaths(makeTempDir())
    createRollout(paths, 'web', (id) => blueGreen({ id }))
    appendInstruction(paths, 'web-1', { action: 'pause', reason: 'look', at: at(1), pid: 1 })
    appendInstruction(paths, 'web-1', { action: 'resume', at: at(2), pid: 1 })
    expect(readInstructions(paths, 'web-1', 0).map((line) => line?.action)).toEqual(['pause', 'resume'])
    expect(readInstructions(paths, 'web-1', 1).map((line) => line?.action)).toEqual(['resume'])
  })

  it('refuses an id that could name another path', () => {
    const paths = deployPaths(makeTempDir())
    expect(() => readRollout(paths, '../etc')).toThrow(/is not a rollout id/)
  })
})

describe('hooks', () => {
  const context = { rollout: 'api-1', service: 'api', strategy: 'canary', phase: 'step' as const, step: 2, weight: 25 }

  it('passes a command that exits 0, with the rollout in its environment', async () => {
    const result = await runHook('echo "$OPSCTL_ROLLOUT at $OPSCTL_WEIGHT"', context, 10_000)
    expect(result.status).toBe('passed')
    expect(result.outputTail).toContain('api-1 at 25')
  })

  it('fails on a non-zero exit, keeping what it printed', async () => {
    const result = await runHook('echo smoke broke; exit 3', context, 10_000)
    expect(result).toMatchObject({ status: 'failed', exitCode: 3 })
    expect(result.outputTail).toContain('smoke broke')
  })

  it('times out a command that overruns, killing it', async () => {
    const result = await runHook('sleep 30', context, 300)
    expect(result.status).toBe('timed-out')
  })
})
