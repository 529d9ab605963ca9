/**
 * The vocabulary the rollout state machines speak: events in (time passing, a window's verdict,
 * a hook that failed, what someone asked from a terminal) and actions out (weights, drains,
 * checks, hooks, journal records). The machines are pure; the executor carries the actions out.
 */
import type { HookPhase } from './rollout.js'
import type { WindowVerdict } from './window.js'

export type RolloutAction =
  | { type: 'weights'; weights: Record<string, number>; weight: number }
  | { type: 'ready'; backend: string }
  | { type: 'drain'; backend: string }
  | { type: 'analyse'; from: string; to: string }
  /** `fails`: a failing hook fails the rollout (pre-rollout, step); otherwise it is only reported. */
  | { type: 'hook'; phase: HookPhase; fails: boolean; instance?: string }
  | { type: 'kill-flag'; flag: string; reason: string }
  | { type: 'record'; kind: string; data: Record<string, unknown> }
  /** Blue/green and rolling: the backend answers its health check (and the engine sees it up) within the timeout. */
  | { type: 'health'; backend: string; address: string }
  /** Blue/green: the smoke scenario against the preview passes its thresholds. */
  | { type: 'smoke'; scenario: string; target: string }
  /** Rolling: the user's command replaces one instance. */
  | { type: 'replace'; backend: string; address: string }

export type RolloutEvent =
  | { type: 'start'; at: string }
  | { type: 'tick'; at: string }
  | { type: 'verdict'; at: string; verdict: WindowVerdict }
  | { type: 'promote'; at: string; full?: boolean }
  | { type: 'pause'; at: string; reason: string }
  | { type: 'resume'; at: string; reason: string }
  | { type: 'abort'; at: string; reason: string }
  | { type: 'rollback'; at: string; reason: string }
  | { type: 'failure'; at: string; reason: string }
  | { type: 'actions-done'; at: string }
  | { type: 'controller-stopped'; at: string }

/** The canary's events are every event. */
export type CanaryEvent = RolloutEvent

export interface Transition<S> {
  rollout: S
  actions: RolloutAction[]
  /** Said to the person watching (why nothing happened, say). */
  notes?: string[]
}

export function recordAction(rollout: { id: string }, kind: string, data: Record<string, unknown>): RolloutAction {
  return { type: 'record', kind, data: { rollout: rollout.id, ...data } }
}

/** Events a person asks for (from a terminal or the dashboard): a finished rollout answers them with a note. */
export const ASKED: ReadonlySet<RolloutEvent['type']> = new Set(['promote', 'pause', 'resume', 'abort', 'rollback'])
