/**
 * A rollout as plain data: what the state file holds, what `deploy status --json` prints, what
 * the state machines read and return. One shape for every strategy, with the strategy's own part.
 */
import type { AnalysisSpec } from './analysis.js'
import type { PlannedStep } from './plan.js'
import type { JudgedStatus, SideSummary } from './window.js'

export const ROLLOUT_KIND = 'opsctl.rollout'
export const ROLLOUT_SCHEMA = 1

export type Strategy = 'canary' | 'strangler' | 'bluegreen' | 'rolling'

export type RolloutStatus =
  | 'pending'
  | 'progressing'
  | 'paused'
  | 'promoting'
  | 'rolling-back'
  | 'promoted'
  | 'completed'
  | 'rolled-back'
  | 'aborted'
  | 'failed'
  | 'halted'

export const TERMINAL: readonly RolloutStatus[] = ['promoted', 'completed', 'rolled-back', 'aborted', 'failed', 'halted']
export const SUCCEEDED: readonly RolloutStatus[] = ['promoted', 'completed']

export function isTerminal(status: RolloutStatus): boolean {
  return TERMINAL.includes(status)
}

export type PauseKind = 'manual' | 'promotion' | 'inconclusive' | 'controller'

export interface Pause {
  kind: PauseKind
  reason: string
  at: string
}

export type HookPhase = 'pre-rollout' | 'step' | 'rollback' | 'promoted' | 'release'

/** Commands (run by `sh -c`) or http(s) URLs (POSTed a JSON payload), per phase. */
export type Hooks = Partial<Record<HookPhase, string[]>>

export interface BackendRef {
  name: string
  /** Where it sends requests (built-in router) or its address (HAProxy). */
  address: string
}

export interface EngineRef {
  kind: 'builtin' | 'haproxy'
  /** Built-in router: its admin URL. */
  adminUrl?: string
  /** HAProxy: its admin socket. */
  haproxySocket?: string
}

/** A window's verdict as kept in the state (the full numbers are in the journal). */
export interface VerdictDigest {
  at: string
  step: number
  weight: number
  status: JudgedStatus
  reasons: string[]
  canary: Pick<SideSummary, 'requests' | 'errors' | 'samples' | 'p50' | 'p99'>
  stable: Pick<SideSummary, 'requests' | 'errors' | 'samples' | 'p50' | 'p99'>
}

export interface Outcome {
  status: RolloutStatus
  reason: string
  at: string
  /** Requests the canary (or old side) could not answer and the router could not move elsewhere. */
  lostRequests?: number
  /** The feature flag turned off in the same rollback. */
  flagKilled?: string
  /** The flag could not be killed: which, and why (the rollback itself went on). */
  flagKillError?: string
  /** The verdict that decided it, when a verdict did. */
  verdict?: VerdictDigest
}

interface RolloutCommon {
  kind: typeof ROLLOUT_KIND
  schema: typeof ROLLOUT_SCHEMA
  id: string
  service: string
  /** A label for the new version (journal: deploy.started's version). */
  version: string
  strategy: Strategy
  createdAt: string
  updatedAt: string
  status: RolloutStatus
  engine: EngineRef
  pool: string
  hooks: Hooks
  hookTimeoutMs: number
  drainTimeoutMs: number
  killFlag?: string
  pause?: Pause
  outcome?: Outcome
  /** Instructions from other terminals already applied (their count in the instruction file). */
  instructionsSeen: number
}

export interface CanaryState extends RolloutCommon {
  strategy: 'canary' | 'strangler'
  /** Strangler fig: the path prefix whose pool moves to the new service. */
  route?: string
  stable: BackendRef
  canary: BackendRef
  /** Every backend of the pool, in the engine's order (others than stable and canary stay at 0). */
  members: string[]
  steps: PlannedStep[]
  intervalMs: number
  /** After each weight change, the time before the analysis window opens (absent in older state files: none). */
  warmupMs?: number
  analysis: AnalysisSpec
  /** Index into steps; -1 before the first step. */
  stepIndex: number
  /** The canary's weight now. */
  weight: number
  stepStartedAt?: string
  windowStartedAt?: string
  inconclusiveStreak: number
  passesInStep: number
  lastInStep?: JudgedStatus
  /** Windows judged so far. */
  windows: number
  verdicts: VerdictDigest[]
  /** While rolling back: the status it ends in. */
  ending?: 'rolled-back' | 'aborted' | 'failed'
  /** The canary's counters when the rollout started, for the requests lost on it. */
  baseline?: { connection: number; retried: number }
}

export interface BlueGreenState extends RolloutCommon {
  strategy: 'bluegreen'
  active: BackendRef
  preview: BackendRef
  members: string[]
  /** The load scenario run against the preview before the switch. */
  smoke?: string
  healthPath: string
  healthTimeoutMs: number
  keepMs: number
  phase: 'checking' | 'switched' | 'released'
  switchedAt?: string
  keepUntil?: string
  releasedAt?: string
  checks: Array<{ name: string; status: JudgedStatus | 'invalid'; reasons: string[] }>
  ending?: 'rolled-back' | 'aborted' | 'failed'
}

export type InstanceStatus = 'pending' | 'draining' | 'replacing' | 'starting' | 'analysing' | 'replaced' | 'failed'

export interface RollingInstance extends BackendRef {
  status: InstanceStatus
  verdict?: VerdictDigest
  command?: { exitCode: number | null; durationMs: number; outputTail: string }
}

export interface RollingState extends RolloutCommon {
  strategy: 'rolling'
  instances: RollingInstance[]
  command: string
  maxUnavailable: number
  intervalMs: number
  analysis: AnalysisSpec
  healthPath: string
  healthTimeoutMs: number
  commandTimeoutMs: number
  /** Once an instance is back, the time before its analysis window opens (absent in older state files: none). */
  warmupMs?: number
  /** The instances being replaced now (names). */
  batch: string[]
  /** replacing: drain, command, health; analysing: windows until a verdict. */
  phase?: 'replacing' | 'analysing'
  windowStartedAt?: string
  inconclusiveStreak: number
  windows: number
  verdicts: VerdictDigest[]
}

export type Rollout = CanaryState | BlueGreenState | RollingState

/** The one line a rollout's state reads as. */
export function describeStatus(rollout: Rollout): string {
  if (rollout.status === 'paused' && rollout.pause) return `paused (${rollout.pause.reason})`
  if (rollout.outcome && isTerminal(rollout.status)) return `${rollout.status}: ${rollout.outcome.reason}`
  return rollout.status
}
