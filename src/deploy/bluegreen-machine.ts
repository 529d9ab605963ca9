/**
 * Blue/green as a pure state machine. The preview is checked (health, then the smoke scenario)
 * while the active side takes all the traffic; then one weight change moves everything at once;
 * the old side stays in the pool at weight 0, ready, for `--keep`, so that a rollback is one
 * weight change back; then it is released (drained; a release hook may stop it).
 *
 *   pending ──checks pass──▶ progressing (switched, kept) ──keep passed──▶ promoting (release) ──▶ completed
 *   pending ──a check fails──▶ failed (no traffic moved)      switched | completed ──rollback──▶ rolling-back ──▶ rolled-back
 */
import { ASKED, recordAction as record, type RolloutAction, type RolloutEvent, type Transition } from './actions.js'
import { deployEvents } from './events.js'
import { isTerminal, type BlueGreenState } from './rollout.js'

export function blueGreenTransition(rollout: BlueGreenState, event: RolloutEvent): Transition<BlueGreenState> {
  const at = event.at
  const next: BlueGreenState = { ...rollout, updatedAt: at }
  const nothing = (note?: string): Transition<BlueGreenState> => ({ rollout, actions: [], ...(note ? { notes: [note] } : {}) })

  if (event.type === 'rollback' && rollout.status === 'completed') return startRollback(next, 'rolled-back', event.reason, at, true)
  if (isTerminal(rollout.status))
    return nothing(ASKED.has(event.type) ? `rollout ${rollout.id} is ${rollout.status}: nothing to do` : undefined)

  switch (event.type) {
    case 'start':
      return rollout.status === 'pending' ? { rollout: next, actions: checkActions(next, true) } : nothing()
    case 'actions-done':
      if (rollout.status === 'pending') return switchOver(next, at)
      if (rollout.status === 'promoting') {
        Object.assign(next, { status: 'completed', phase: 'released', releasedAt: at })
        next.outcome = {
          status: 'completed',
          reason: `switched to ${rollout.preview.name}; ${rollout.active.name} released after the keep period`,
          at,
        }
        return {
          rollout: next,
          actions: [record(next, deployEvents.completed.kind, { strategy: 'bluegreen', active: rollout.preview.name })],
        }
      }
      if (rollout.status === 'rolling-back') return finish(next, at)
      return nothing()
    case 'tick':
      if (rollout.status === 'progressing' && rollout.phase === 'switched' && rollout.keepUntil && at >= rollout.keepUntil)
        return release(next)
      return nothing()
    case 'failure':
      if (rollout.status === 'pending') return startRollback(next, 'failed', event.reason, at, false)
      if (rollout.status === 'rolling-back' && rollout.phase === 'released') {
        // rollback after release: the old side did not come back healthy; traffic stays where it is
        Object.assign(next, { status: 'completed' })
        delete next.ending
        return { rollout: next, actions: [{ type: 'drain', backend: rollout.active.name }], notes: [`cannot roll back: ${event.reason}`] }
      }
      return startRollback(next, 'rolled-back', event.reason, at, false)
    case 'rollback':
      return startRollback(next, 'rolled-back', event.reason, at, false)
    case 'abort':
      return startRollback(next, 'aborted', event.reason, at, false)
    case 'resume':
      if (rollout.status === 'pending')
        return { rollout: next, actions: [record(next, deployEvents.resumed.kind, { reason: event.reason }), ...checkActions(next, false)] }
      if (rollout.status === 'rolling-back') return { rollout: next, actions: rollbackActions(next, rollout.phase === 'released') }
      if (rollout.status === 'promoting') return release(next)
      if (rollout.status === 'paused') {
        next.status = 'progressing'
        delete next.pause
      }
      return { rollout: next, actions: [record(next, deployEvents.resumed.kind, { reason: event.reason })] }
    case 'controller-stopped':
      if (rollout.status === 'progressing' || rollout.status === 'pending') {
        next.status = 'paused'
        next.pause = { kind: 'controller', reason: 'controller stopped', at }
        return {
          rollout: next,
          actions: [record(next, deployEvents.paused.kind, { reason: 'controller stopped', pause: 'controller', phase: rollout.phase })],
        }
      }
      return nothing()
    case 'promote':
    case 'pause':
    case 'verdict':
      return nothing(`a blue/green rollout has nothing to ${event.type}`)
  }
}

function weights(rollout: BlueGreenState, to: 'active' | 'preview'): RolloutAction {
  const target = to === 'active' ? rollout.active.name : rollout.preview.name
  const map = Object.fromEntries(rollout.members.map((name) => [name, name === target ? 100 : 0]))
  return { type: 'weights', weights: map, weight: to === 'preview' ? 100 : 0 }
}

function checkActions(rollout: BlueGreenState, first: boolean): RolloutAction[] {
  return [
    ...(first
      ? [
          record(rollout, deployEvents.started.kind, {
            version: rollout.version,
            strategy: 'bluegreen',
            from: rollout.active.address,
            to: rollout.preview.address,
            active: rollout.active.name,
            preview: rollout.preview.name,
            pool: rollout.pool,
            keepMs: rollout.keepMs,
          }),
        ]
      : []),
    // the preview takes no traffic until the switch, whatever it had
    weights(rollout, 'active'),
    { type: 'ready', backend: rollout.preview.name },
    { type: 'hook', phase: 'pre-rollout', fails: true },
    { type: 'health', backend: rollout.preview.name, address: rollout.preview.address },
    ...(rollout.smoke ? [{ type: 'smoke' as const, scenario: rollout.smoke, target: rollout.preview.address }] : []),
  ]
}

function switchOver(rollout: BlueGreenState, at: string): Transition<BlueGreenState> {
  const keepUntil = new Date(Date.parse(at) + rollout.keepMs).toISOString()
  Object.assign(rollout, { status: 'progressing', phase: 'switched', switchedAt: at, keepUntil })
  return {
    rollout,
    actions: [
      weights(rollout, 'preview'),
      record(rollout, deployEvents.switched.kind, { from: rollout.active.name, to: rollout.preview.name, keepUntil }),
      { type: 'hook', phase: 'promoted', fails: false },
    ],
  }
}

function release(rollout: BlueGreenState): Transition<BlueGreenState> {
  rollout.status = 'promoting'
  return {
    rollout,
    actions: [
      { type: 'drain', backend: rollout.active.name },
      { type: 'hook', phase: 'release', fails: false },
      record(rollout, deployEvents.released.kind, { backend: rollout.active.name, keptMs: rollout.keepMs }),
    ],
  }
}

function startRollback(
  rollout: BlueGreenState,
  ending: 'rolled-back' | 'aborted' | 'failed',
  reason: string,
  at: string,
  afterRelease: boolean,
): Transition<BlueGreenState> {
  if (rollout.status === 'rolling-back') return { rollout, actions: [], notes: ['already rolling back'] }
  const switched = rollout.phase !== 'checking'
  rollout.status = 'rolling-back'
  rollout.ending = switched ? ending : ending === 'rolled-back' ? 'failed' : ending
  delete rollout.pause
  rollout.outcome = { status: rollout.ending, reason, at }
  if (!switched) {
    // nothing moved: the preview leaves rotation, the active side keeps everything
    return {
      rollout,
      actions: [
        weights(rollout, 'active'),
        { type: 'hook', phase: 'rollback', fails: false },
        { type: 'drain', backend: rollout.preview.name },
        record(rollout, rollout.ending === 'aborted' ? deployEvents.aborted.kind : deployEvents.failed.kind, { reason }),
      ],
    }
  }
  return { rollout, actions: rollbackActions(rollout, afterRelease) }
}

function rollbackActions(rollout: BlueGreenState, afterRelease: boolean): RolloutAction[] {
  const reason = rollout.outcome?.reason ?? 'rolled back'
  return [
    // the old side may have been released (drained) already: back in rotation, and healthy, before it takes everything
    { type: 'ready', backend: rollout.active.name },
    ...(afterRelease ? [{ type: 'health' as const, backend: rollout.active.name, address: rollout.active.address }] : []),
    weights(rollout, 'active'),
    { type: 'hook', phase: 'rollback', fails: false },
    { type: 'drain', backend: rollout.preview.name },
    record(rollout, rollout.ending === 'aborted' ? deployEvents.aborted.kind : deployEvents.rollback.kind, {
      reason,
      to: rollout.active.address,
      from: rollout.preview.name,
      ...(rollout.switchedAt ? { switchedAt: rollout.switchedAt } : {}),
    }),
  ]
}

function finish(rollout: BlueGreenState, at: string): Transition<BlueGreenState> {
  const status = rollout.ending ?? 'rolled-back'
  rollout.status = status
  delete rollout.ending
  rollout.outcome = { ...rollout.outcome, status, reason: rollout.outcome?.reason ?? 'rolled back', at }
  return { rollout, actions: [] }
}
