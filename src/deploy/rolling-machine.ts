/**
 * Rolling replacement as a pure state machine: `maxUnavailable` instances at a time are drained,
 * replaced by the user's command, waited for until healthy, put back in rotation, then judged
 * against the instances not yet replaced over analysis windows. A failing batch halts the rollout
 * with the rest untouched (the failed instances are taken out of rotation).
 *
 *   pending ──▶ progressing (replacing ⇄ analysing, batch by batch) ──▶ completed
 *   a failing command, health check or verdict ──▶ halted      abort ──▶ aborted
 */
import { ASKED, recordAction as record, type RolloutAction, type RolloutEvent, type Transition } from './actions.js'
import { digestOf } from './canary-machine.js'
import { deployEvents } from './events.js'
import { isTerminal, type InstanceStatus, type RollingState } from './rollout.js'
import type { WindowVerdict } from './window.js'

const KEEP_VERDICTS = 20

export function rollingTransition(rollout: RollingState, event: RolloutEvent): Transition<RollingState> {
  const at = event.at
  const next: RollingState = { ...rollout, updatedAt: at, instances: rollout.instances.map((instance) => ({ ...instance })) }
  const nothing = (note?: string): Transition<RollingState> => ({ rollout, actions: [], ...(note ? { notes: [note] } : {}) })
  if (isTerminal(rollout.status))
    return nothing(ASKED.has(event.type) ? `rollout ${rollout.id} is ${rollout.status}: nothing to do` : undefined)

  switch (event.type) {
    case 'start':
      return rollout.status === 'pending' ? { rollout: next, actions: startActions(next) } : nothing()
    case 'actions-done':
      if (rollout.status === 'pending') return beginBatch(next, at)
      if (rollout.status === 'progressing' && rollout.phase === 'replacing') {
        next.phase = 'analysing'
        next.windowStartedAt = afterWarmup(next, at)
        next.inconclusiveStreak = 0
        setBatch(next, 'analysing')
        return { rollout: next, actions: [] }
      }
      if (rollout.status === 'promoting') {
        next.status = 'completed'
        next.outcome = { status: 'completed', reason: `${next.instances.length} instance(s) replaced`, at }
        return { rollout: next, actions: [] }
      }
      return nothing()
    case 'tick':
      if (rollout.status === 'progressing' && rollout.phase === 'analysing' && rollout.windowStartedAt) {
        if (Date.parse(at) - Date.parse(rollout.windowStartedAt) >= rollout.intervalMs) {
          const from = rollout.windowStartedAt
          next.windowStartedAt = at
          return { rollout: next, actions: [{ type: 'analyse', from, to: at }] }
        }
      }
      return nothing()
    case 'verdict':
      if (rollout.status !== 'progressing' || rollout.phase !== 'analysing') return nothing()
      return onVerdict(next, event.verdict, at)
    case 'failure':
      if (rollout.status === 'pending') {
        next.status = 'failed'
        next.outcome = { status: 'failed', reason: event.reason, at }
        return { rollout: next, actions: [record(next, deployEvents.failed.kind, { reason: event.reason })] }
      }
      return halt(next, event.reason, at)
    case 'abort':
      next.status = 'aborted'
      delete next.pause
      next.outcome = { status: 'aborted', reason: event.reason, at }
      return { rollout: next, actions: [record(next, deployEvents.aborted.kind, { reason: event.reason, batch: rollout.batch })] }
    case 'pause':
      if (rollout.status !== 'progressing') return nothing(`cannot pause while ${rollout.status}`)
      next.status = 'paused'
      next.pause = { kind: 'manual', reason: event.reason, at }
      return {
        rollout: next,
        actions: [record(next, deployEvents.paused.kind, { reason: event.reason, pause: 'manual', batch: rollout.batch })],
      }
    case 'resume': {
      const resumed = record(next, deployEvents.resumed.kind, { reason: event.reason, batch: rollout.batch })
      if (rollout.status === 'pending') return { rollout: next, actions: [resumed, ...startActions(next).slice(1)] }
      if (rollout.status === 'promoting') return { rollout: next, actions: [resumed] }
      next.status = 'progressing'
      delete next.pause
      if (next.phase === 'replacing') return { rollout: next, actions: [resumed, ...batchActions(next)] }
      next.phase = 'analysing'
      next.windowStartedAt = afterWarmup(next, at)
      next.inconclusiveStreak = 0
      return { rollout: next, actions: [resumed] }
    }
    case 'controller-stopped':
      if (rollout.status === 'progressing' || rollout.status === 'pending') {
        next.status = 'paused'
        next.pause = { kind: 'controller', reason: 'controller stopped', at }
        return {
          rollout: next,
          actions: [record(next, deployEvents.paused.kind, { reason: 'controller stopped', pause: 'controller', batch: rollout.batch })],
        }
      }
      return nothing()
    case 'promote':
    case 'rollback':
      return nothing(`a rolling rollout has nothing to ${event.type}`)
  }
}

function startActions(rollout: RollingState): RolloutAction[] {
  return [
    record(rollout, deployEvents.started.kind, {
      version: rollout.version,
      strategy: 'rolling',
      pool: rollout.pool,
      instances: rollout.instances.map((instance) => instance.name),
      maxUnavailable: rollout.maxUnavailable,
    }),
    { type: 'hook', phase: 'pre-rollout', fails: true },
  ]
}

function setBatch(rollout: RollingState, status: InstanceStatus): void {
  for (const instance of rollout.instances) if (rollout.batch.includes(instance.name)) instance.status = status
}

function beginBatch(rollout: RollingState, at: string): Transition<RollingState> {
  const batch = rollout.instances.filter((instance) => instance.status === 'pending').slice(0, rollout.maxUnavailable)
  rollout.status = 'progressing'
  delete rollout.pause
  if (batch.length === 0) {
    rollout.status = 'promoting'
    rollout.batch = []
    delete rollout.phase
    return {
      rollout,
      actions: [
        record(rollout, deployEvents.completed.kind, { strategy: 'rolling', instances: rollout.instances.length }),
        { type: 'hook', phase: 'promoted', fails: false },
      ],
    }
  }
  rollout.batch = batch.map((instance) => instance.name)
  rollout.phase = 'replacing'
  delete rollout.windowStartedAt
  setBatch(rollout, 'replacing')
  void at
  return { rollout, actions: batchActions(rollout) }
}

/** Drain each, run the command for each, wait for each to be healthy, put each back: one batch. */
function batchActions(rollout: RollingState): RolloutAction[] {
  const batch = rollout.instances.filter((instance) => rollout.batch.includes(instance.name))
  return [
    ...batch.map((instance): RolloutAction => ({ type: 'hook', phase: 'step', fails: true, instance: instance.name })),
    ...batch.map((instance): RolloutAction => ({ type: 'drain', backend: instance.name })),
    ...batch.map((instance): RolloutAction => ({ type: 'replace', backend: instance.name, address: instance.address })),
    ...batch.map((instance): RolloutAction => ({ type: 'health', backend: instance.name, address: instance.address })),
    ...batch.map((instance): RolloutAction => ({ type: 'ready', backend: instance.name })),
  ]
}

function onVerdict(rollout: RollingState, verdict: WindowVerdict, at: string): Transition<RollingState> {
  const digest = digestOf(verdict, rollout.instances.filter((instance) => instance.status === 'replaced').length + 1, 0, at)
  rollout.windows++
  rollout.verdicts = [...rollout.verdicts, digest].slice(-KEEP_VERDICTS)
  const recorded = record(rollout, deployEvents.verdict.kind, {
    verdict: verdict.status,
    reason: verdict.reasons.join('; '),
    batch: rollout.batch,
    window: { from: verdict.from, to: verdict.to, complete: verdict.complete },
    stable: verdict.stable,
    canary: verdict.canary,
    ...(verdict.judge ? { judge: verdict.judge } : {}),
    thresholds: verdict.thresholds,
    ...(verdict.notes.length ? { notes: verdict.notes } : {}),
  })
  if (verdict.status === 'fail') {
    for (const instance of rollout.instances) if (rollout.batch.includes(instance.name)) instance.verdict = digest
    const halted = halt(
      rollout,
      `${rollout.batch.join(', ')} failed the analysis against the instances not yet replaced: ${verdict.reasons.join('; ')}`,
      at,
    )
    return { ...halted, actions: [recorded, ...halted.actions] }
  }
  if (verdict.status === 'inconclusive') {
    rollout.inconclusiveStreak++
    if (rollout.inconclusiveStreak < rollout.analysis.maxInconclusive) return { rollout, actions: [recorded] }
    const reason = `${rollout.inconclusiveStreak} inconclusive analysis window(s) in a row after replacing ${rollout.batch.join(', ')}: ${verdict.reasons.join('; ')}`
    rollout.status = 'paused'
    rollout.pause = { kind: 'inconclusive', reason, at }
    return {
      rollout,
      actions: [recorded, record(rollout, deployEvents.paused.kind, { reason, pause: 'inconclusive', batch: rollout.batch })],
    }
  }
  const replaced = rollout.batch.map((name) =>
    record(rollout, deployEvents['instance-replaced'].kind, { instance: name, verdict: 'pass' as const, windows: rollout.windows }),
  )
  for (const instance of rollout.instances) {
    if (!rollout.batch.includes(instance.name)) continue
    instance.status = 'replaced'
    instance.verdict = digest
  }
  const next = beginBatch(rollout, at)
  return { ...next, actions: [recorded, ...replaced, ...next.actions] }
}

function halt(rollout: RollingState, reason: string, at: string): Transition<RollingState> {
  const failed = rollout.batch
  setBatch(rollout, 'failed')
  rollout.status = 'halted'
  delete rollout.pause
  delete rollout.phase
  rollout.outcome = { status: 'halted', reason, at }
  const untouched = rollout.instances.filter((instance) => instance.status === 'pending').map((instance) => instance.name)
  return {
    rollout,
    actions: [
      // a failed instance leaves rotation; the ones not yet replaced keep serving, untouched
      ...failed.map((name): RolloutAction => ({ type: 'drain', backend: name })),
      { type: 'hook', phase: 'rollback', fails: false },
      record(rollout, deployEvents.halted.kind, { reason, ...(failed[0] ? { instance: failed.join(', ') } : {}), untouched }),
    ],
  }
}

/** Where the window opens once an instance is back: its warm-up (fresh connections, cold code) is not judged. */
function afterWarmup(rollout: RollingState, at: string): string {
  return rollout.warmupMs ? new Date(Date.parse(at) + rollout.warmupMs).toISOString() : at
}
