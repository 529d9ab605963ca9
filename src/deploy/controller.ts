/**
 * What every strategy's controller shares: the state saved after each transition, the lock kept
 * fresh, instructions from other terminals turned into events, sleeping until the next tick or
 * Ctrl-C, and the verdict a finished (or paused) rollout concludes with.
 */
import { parseDuration, verdict, type Settings, type Verdict } from '../core/index.js'
import { trafficControlFor, type ControlHandle } from '../traffic/index.js'
import type { RolloutEvent } from './actions.js'
import { Executor, type AnalysisSides } from './executor.js'
import { transition } from './machines.js'
import { ROLLOUT_KIND, ROLLOUT_SCHEMA, isTerminal, type Rollout, type EngineRef } from './rollout.js'
import {
  acquireRolloutLock,
  createRollout,
  deployPaths,
  refuseSecondRollout,
  readInstructions,
  saveRollout,
  type DeployPaths,
  type Instruction,
  type RolloutLock,
} from './store.js'

export interface ControllerIO {
  /** Aborted on Ctrl-C: the rollout is left paused ("controller stopped") for `deploy resume`. */
  signal: AbortSignal
  /** Progress and diagnostics (stderr). */
  log(message: string): void
  now?: () => Date
  /** How often the controller looks at the clock, the instructions and the canary's health (default 250 ms). */
  tickMs?: number
}

export interface RolloutRun {
  rollout: Rollout
  /** pass: promoted or completed; fail: rolled back, aborted, halted, failed; inconclusive: paused for want of evidence. */
  verdict: Verdict
  /** Ctrl-C stopped the controller; the rollout waits, paused, for `deploy resume`. */
  interrupted: boolean
  /** This command only asked a running controller (another process) to act. */
  instructed?: boolean
}

export class ControllerContext<R extends Rollout> {
  readonly paths: DeployPaths
  readonly executor: Executor
  private lastHeartbeat = 0
  private instructionsRead: number

  constructor(
    readonly settings: Settings,
    public rollout: R,
    readonly handle: ControlHandle,
    readonly lock: RolloutLock,
    readonly io: ControllerIO,
  ) {
    this.paths = deployPaths(settings.stateDir)
    this.executor = new Executor(settings, handle.control, { log: io.log, signal: io.signal })
    this.instructionsRead = rollout.instructionsSeen
  }

  get traffic() {
    return this.handle.control
  }

  now(): string {
    return (this.io.now?.() ?? new Date()).toISOString()
  }

  save(rollout: R): void {
    this.rollout = rollout
    saveRollout(this.paths, rollout)
  }

  heartbeat(): void {
    if (Date.now() - this.lastHeartbeat < 5000) return
    this.lastHeartbeat = Date.now()
    this.lock.heartbeat()
  }

  /** Instructions appended since the last look, as events; the state counts them as seen. */
  instructions(): RolloutEvent[] {
    const fresh = readInstructions(this.paths, this.rollout.id, this.instructionsRead)
    if (fresh.length === 0) return []
    this.instructionsRead += fresh.length
    this.rollout = { ...this.rollout, instructionsSeen: this.instructionsRead }
    return fresh.filter((item): item is Instruction => item !== undefined).map((item) => instructionEvent(item, this.now()))
  }

  /** Waits one tick, or less when Ctrl-C comes. */
  async sleep(ms = this.io.tickMs ?? 250): Promise<void> {
    if (this.io.signal.aborted) return
    const signal = this.io.signal
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done, { once: true })
    })
  }

  async close(): Promise<void> {
    this.lock.release()
    await this.handle.close()
  }
}

export function instructionEvent(instruction: Instruction, at: string): RolloutEvent {
  const reason = instruction.reason ?? `asked from another terminal (pid ${instruction.pid})`
  switch (instruction.action) {
    case 'promote':
      return { type: 'promote', at, ...(instruction.full ? { full: true } : {}) }
    case 'pause':
      return { type: 'pause', at, reason: instruction.reason ?? 'paused by hand' }
    case 'resume':
      return { type: 'resume', at, reason: instruction.reason ?? 'resumed by hand' }
    case 'abort':
      return { type: 'abort', at, reason }
    case 'rollback':
      return { type: 'rollback', at, reason: instruction.reason ?? 'rolled back by hand' }
  }
}

/** The traffic engine a rollout was started on: its HAProxy socket or router admin URL, else the configured one. */
export function openTraffic(settings: Settings, engine: Partial<EngineRef> | undefined, log: (message: string) => void): ControlHandle {
  return trafficControlFor(
    settings,
    {
      ...(engine?.adminUrl ? { adminUrl: engine.adminUrl } : {}),
      ...(engine?.haproxySocket ? { haproxySocket: engine.haproxySocket } : {}),
    },
    log,
  )
}

/** Which engine a new rollout drives, as its state keeps it: HAProxy's socket, or the router admin URL given (else the configured one). */
export function engineRef(handle: ControlHandle, adminUrl: string | undefined): EngineRef {
  if (handle.control.engine === 'haproxy') return { kind: 'haproxy', haproxySocket: handle.target }
  return { kind: handle.control.engine, ...(adminUrl ? { adminUrl } : {}) }
}

/** What every new rollout starts with, whatever its strategy. */
export type NewRolloutFields = Pick<
  Rollout,
  'kind' | 'schema' | 'id' | 'service' | 'createdAt' | 'updatedAt' | 'status' | 'hookTimeoutMs' | 'drainTimeoutMs' | 'instructionsSeen'
>

/**
 * The start every strategy shares: one rollout of a service at a time, its state file created
 * (the strategy adds its own fields to the common ones), then the lock and the traffic engine.
 */
export function startRollout<R extends Rollout>(
  settings: Settings,
  service: string,
  io: ControllerIO,
  build: (common: NewRolloutFields) => R,
): { context: ControllerContext<R>; startedAt: string } {
  const paths = deployPaths(settings.stateDir)
  refuseSecondRollout(paths, service)
  const startedAt = (io.now?.() ?? new Date()).toISOString()
  const config = settings.config.deploy
  const rollout = createRollout<R>(paths, service, (id) =>
    build({
      kind: ROLLOUT_KIND,
      schema: ROLLOUT_SCHEMA,
      id,
      service,
      createdAt: startedAt,
      updatedAt: startedAt,
      status: 'pending',
      hookTimeoutMs: parseDuration(config.hookTimeout, 'deploy.hookTimeout'),
      drainTimeoutMs: parseDuration(config.drainTimeout, 'deploy.drainTimeout'),
      instructionsSeen: 0,
    }),
  )
  return { context: controlRollout(settings, rollout, io), startedAt }
}

/** Takes the lock and opens the traffic engine for a rollout that exists; the lock is released if the engine cannot be reached. */
export function controlRollout<R extends Rollout>(settings: Settings, rollout: R, io: ControllerIO): ControllerContext<R> {
  const paths = deployPaths(settings.stateDir)
  const lock = acquireRolloutLock(paths, rollout.id)
  try {
    const handle = openTraffic(settings, rollout.engine, io.log)
    return new ControllerContext(settings, rollout, handle, lock, io)
  } catch (error) {
    lock.release()
    throw error
  }
}

/** The verdict a rollout concludes with: promoted or completed pass, anything else fails, a pause for want of evidence is inconclusive. */
export function rolloutVerdict(rollout: Rollout): Verdict {
  const outcome = rollout.outcome
  switch (rollout.status) {
    case 'promoted':
    case 'completed':
      return verdict('pass', outcome ? [outcome.reason] : [])
    case 'rolled-back':
    case 'aborted':
    case 'failed':
    case 'halted': {
      const reasons = [`${rollout.id} ${rollout.status}: ${outcome?.reason ?? ''}`.trim()]
      if (outcome?.lostRequests !== undefined) reasons.push(`requests lost on the way out: ${outcome.lostRequests}`)
      if (outcome?.flagKilled) reasons.push(`feature flag ${outcome.flagKilled} killed`)
      if (outcome?.flagKillError) reasons.push(`feature flag NOT killed: ${outcome.flagKillError}`)
      return verdict('fail', reasons, {
        hint:
          rollout.status === 'rolled-back'
            ? `See the numbers with opsctl deploy status ${rollout.id}, or the journal: opsctl journal --kind deploy --subject ${rollout.service}.`
            : `opsctl deploy status ${rollout.id}`,
      })
    }
    case 'paused':
      return verdict(
        rollout.pause?.kind === 'inconclusive' ? 'inconclusive' : 'fail',
        [`${rollout.id} paused: ${rollout.pause?.reason ?? ''}`],
        {
          hint:
            rollout.pause?.kind === 'inconclusive'
              ? `Send more traffic (or synthetic load: load: in the analysis file), then opsctl deploy resume ${rollout.id}; or abort it.`
              : `opsctl deploy resume ${rollout.id}`,
        },
      )
    default:
      return verdict('inconclusive', [`${rollout.id} is ${rollout.status}`], { hint: `opsctl deploy resume ${rollout.id}` })
  }
}

export function finished(rollout: Rollout): boolean {
  return isTerminal(rollout.status)
}

export interface DriveHooks {
  /** The backends judged against each other in an analysis window, if any now. */
  sides(rollout: Rollout): AnalysisSides | undefined
  /** Called every tick: a reason to fail the rollout (the canary is down), or undefined. */
  watch?(rollout: Rollout): Promise<string | undefined>
  /** Tells the person watching what changed. */
  report?(before: Rollout, after: Rollout): void
  stop?(): Promise<void>
}

/**
 * The controller's loop, for every strategy: apply an event, save, run its actions, turn what
 * they found into events; then wait a tick, read instructions, watch, tick. Ends when the
 * rollout is finished, paused for want of evidence (the command exits 1), or Ctrl-C left it
 * paused for `deploy resume` (exit 130).
 */
export async function driveRollout<R extends Rollout>(
  context: ControllerContext<R>,
  first: RolloutEvent,
  hooks: DriveHooks,
): Promise<RolloutRun> {
  const queue: RolloutEvent[] = [first]
  let interrupted = false
  let pausedForEvidence = false
  try {
    const sides = hooks.sides(context.rollout)
    if (sides) await context.executor.primeSeries(context.rollout, sides)
    for (;;) {
      while (queue.length > 0) {
        const event = queue.shift()!
        const before = context.rollout
        const next = transition(before, event)
        for (const note of next.notes ?? []) context.io.log(`${before.id}: ${note}`)
        context.save(next.rollout as R)
        hooks.report?.(before, context.rollout)
        if (next.actions.length === 0) continue
        const found = await context.executor.run(context.rollout, next.actions, { sides: hooks.sides(context.rollout) })
        context.save(context.rollout) // what the actions found (lost requests, the flag, checks)
        for (const outcome of found) {
          if (outcome.type === 'verdict') queue.push({ type: 'verdict', at: context.now(), verdict: outcome.verdict })
          else if (outcome.type === 'failure') queue.push({ type: 'failure', at: context.now(), reason: outcome.reason })
          else queue.push({ type: 'actions-done', at: context.now() })
        }
      }
      const rollout = context.rollout
      if (isTerminal(rollout.status)) break
      if (rollout.status === 'paused' && rollout.pause?.kind === 'inconclusive') {
        pausedForEvidence = true
        break
      }
      if (interrupted) break
      if (context.io.signal.aborted) {
        // once: the machine pauses what was moving ("controller stopped"); a rollback or promotion under way stays for resume
        interrupted = true
        queue.push({ type: 'controller-stopped', at: context.now() })
        continue
      }
      await context.sleep()
      context.heartbeat()
      queue.push(...context.instructions())
      const failure = await hooks.watch?.(context.rollout)
      if (failure) queue.push({ type: 'failure', at: context.now(), reason: failure })
      queue.push({ type: 'tick', at: context.now() })
    }
  } catch (error) {
    // The rollout stays where the state says; a new controller repeats the step's actions.
    context.io.log(
      `${context.rollout.id}: the controller stopped: ${(error as Error).message}; resume with opsctl deploy resume ${context.rollout.id}`,
    )
    throw error
  } finally {
    await hooks.stop?.()
    await context.close()
  }
  const rollout = context.rollout
  return { rollout, verdict: rolloutVerdict(rollout), interrupted: interrupted && !pausedForEvidence && !isTerminal(rollout.status) }
}
