/**
 * What `deploy status|promote|pause|resume|abort|rollback|history` do from any terminal. A
 * rollout with a live controller is asked through its instruction file, and the answer is waited
 * for; without one, pause, abort and rollback act directly (taking the lock), and resume makes
 * this process the controller.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { badInput, verdict, type Settings, type Verdict } from '../core/index.js'
import { openJournal, recordEvent, type JournalEvent } from '../journal/index.js'
import { resumeBlueGreen } from './bluegreen.js'
import { resumeCanary } from './canary.js'
import { controlRollout, rolloutVerdict, type ControllerIO, type RolloutRun } from './controller.js'
import { deployEvents } from './events.js'
import { transition, type RolloutEvent } from './machines.js'
import { resumeRolling } from './rolling.js'
import { SUCCEEDED, isTerminal, type Rollout } from './rollout.js'
import {
  activeRollouts,
  appendInstruction,
  checkRolloutId,
  checkServiceName,
  controllerRunning,
  deployPaths,
  inspectLock,
  listRollouts,
  readRollout,
  type InstructionAction,
  type LockHolder,
} from './store.js'

export interface RolloutSelector {
  id?: string | undefined
  service?: string | undefined
}

export interface ControllerView {
  pid: number
  host: string
  since: string
  alive: boolean
}

export interface RolloutView {
  rollout: Rollout
  controller?: ControllerView
}

export interface StatusReport {
  rollouts: RolloutView[]
  /** No rollout matched: what to say instead of an empty table. */
  empty?: string
}

function view(settings: Settings, rollout: Rollout): RolloutView {
  const lock = inspectLock(deployPaths(settings.stateDir), rollout.id)
  const holder: LockHolder | undefined = lock?.holder
  return { rollout, ...(holder ? { controller: { pid: holder.pid, host: holder.host, since: holder.since, alive: lock!.alive } } : {}) }
}

/** `deploy status [ROLLOUT]`: one rollout, the running ones, or (all) every one kept in the state directory. */
export function rolloutStatus(settings: Settings, selector: RolloutSelector & { all?: boolean | undefined }): StatusReport {
  const paths = deployPaths(settings.stateDir)
  if (selector.id) return { rollouts: [view(settings, readRollout(paths, checkRolloutId(selector.id)))] }
  const service = selector.service ? checkServiceName(selector.service) : undefined
  const pool = (selector.all ? listRollouts(paths) : activeRollouts(paths)).filter((rollout) => !service || rollout.service === service)
  if (pool.length === 0) return { rollouts: [], empty: `No rollout${selector.all ? '' : ' is running'}${service ? ` of ${service}` : ''}.` }
  return { rollouts: pool.map((rollout) => view(settings, rollout)) }
}

/** The rollout an action is about: the one named, else the only running one (of the service); rollback also finds the last finished one. */
export function pickRollout(settings: Settings, selector: RolloutSelector, action: InstructionAction | 'resume'): Rollout {
  const paths = deployPaths(settings.stateDir)
  if (selector.id) return readRollout(paths, checkRolloutId(selector.id))
  const service = selector.service ? checkServiceName(selector.service) : undefined
  const running = activeRollouts(paths).filter((rollout) => !service || rollout.service === service)
  if (running.length === 1) return running[0]!
  if (running.length > 1)
    throw badInput(
      `Several rollouts are running (${running.map((rollout) => `${rollout.id} of ${rollout.service}`).join(', ')}): say which`,
      `opsctl deploy ${action} ${running[0]!.id}`,
    )
  if (action === 'rollback') {
    const done = listRollouts(paths)
      .filter(
        (rollout) => (!service || rollout.service === service) && SUCCEEDED.includes(rollout.status) && rollout.strategy !== 'rolling',
      )
      .sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : 1))
      .at(-1)
    if (done) return done
  }
  throw badInput(
    `No rollout is running${service ? ` of ${service}` : ''}: nothing to ${action}`,
    action === 'rollback'
      ? 'Nothing was deployed through opsctl deploy here either (opsctl deploy history).'
      : 'Start one with opsctl deploy canary (or bluegreen, rolling); opsctl deploy history lists past ones.',
  )
}

export interface ActionResult {
  action: InstructionAction
  /** controller: a running controller was asked and answered; direct: this process acted. */
  via: 'controller' | 'direct'
  rollout: Rollout
  /** Said to the person: what happened, or why nothing did. */
  message: string
}

export interface ActionRequest extends RolloutSelector {
  reason?: string | undefined
  /** promote: straight to 100%. */
  full?: boolean | undefined
  /** How long to wait for a running controller's answer (default 15 s, plus the drain for abort and rollback). */
  waitMs?: number | undefined
}

/** promote, pause, abort, rollback from any terminal. */
export async function actOnRollout(
  settings: Settings,
  action: Exclude<InstructionAction, 'resume'>,
  request: ActionRequest,
  io: Pick<ControllerIO, 'log'>,
): Promise<ActionResult> {
  const paths = deployPaths(settings.stateDir)
  const rollout = pickRollout(settings, request, action)
  const afterTheFact = action === 'rollback' && SUCCEEDED.includes(rollout.status)
  if (isTerminal(rollout.status) && !afterTheFact)
    throw badInput(`Rollout ${rollout.id} is already ${rollout.status}: nothing to ${action}`, `opsctl deploy status ${rollout.id}`)
  if (action === 'rollback' && rollout.strategy === 'rolling')
    throw badInput(
      `Rollout ${rollout.id} is rolling: replaced instances cannot be switched back`,
      `Abort it (opsctl deploy abort ${rollout.id}), then roll the old version out the same way.`,
    )
  if (action === 'promote' && rollout.strategy !== 'canary' && rollout.strategy !== 'strangler')
    throw badInput(`Rollout ${rollout.id} is ${rollout.strategy}: only canaries have steps to promote`)
  const lock = inspectLock(paths, rollout.id)
  if (action === 'promote' && !lock?.alive)
    throw badInput(
      `No controller is running rollout ${rollout.id} (${rollout.status}): nothing would carry out the promotion`,
      `Resume it first: opsctl deploy resume ${rollout.id}`,
    )
  await recordEvent(settings, {
    kind: deployEvents.action.kind,
    subject: rollout.service,
    data: { rollout: rollout.id, action, ...(request.reason ? { reason: request.reason } : {}), ...(request.full ? { full: true } : {}) },
    links: { rollout: rollout.id },
  })
  if (lock?.alive) return askController(settings, rollout, action, request, lock.holder)
  return actDirectly(settings, rollout, action as Exclude<InstructionAction, 'resume' | 'promote'>, request, io)
}

async function askController(
  settings: Settings,
  rollout: Rollout,
  action: Exclude<InstructionAction, 'resume'>,
  request: ActionRequest,
  holder: LockHolder | undefined,
): Promise<ActionResult> {
  const paths = deployPaths(settings.stateDir)
  const count = countInstructions(paths, rollout.id)
  appendInstruction(paths, rollout.id, {
    action,
    ...(request.reason ? { reason: request.reason } : {}),
    ...(request.full ? { full: true } : {}),
    at: new Date().toISOString(),
    pid: process.pid,
  })
  const ending = action === 'abort' || action === 'rollback'
  const deadline = Date.now() + (request.waitMs ?? 15_000) + (ending ? rollout.drainTimeoutMs : 0)
  let current = rollout
  for (;;) {
    current = readRollout(paths, rollout.id)
    const applied = current.instructionsSeen > count
    if (applied && (!ending || isTerminal(current.status))) break
    if (Date.now() > deadline) {
      return {
        action,
        via: 'controller',
        rollout: current,
        message: applied
          ? `${action} is under way (the controller, process ${holder?.pid}, is ${current.status})`
          : `asked the controller (process ${holder?.pid} on ${holder?.host}); it has not answered yet`,
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { action, via: 'controller', rollout: current, message: `${current.id} is ${current.status}` }
}

function countInstructions(paths: ReturnType<typeof deployPaths>, id: string): number {
  try {
    return readFileSync(paths.instructions(id), 'utf8').split('\n').length - 1
  } catch {
    return 0
  }
}

async function actDirectly(
  settings: Settings,
  rollout: Rollout,
  action: Exclude<InstructionAction, 'resume' | 'promote'>,
  request: ActionRequest,
  io: Pick<ControllerIO, 'log'>,
): Promise<ActionResult> {
  const at = new Date().toISOString()
  const event: RolloutEvent =
    action === 'pause'
      ? { type: 'pause', at, reason: request.reason ?? 'paused by hand' }
      : action === 'abort'
        ? { type: 'abort', at, reason: request.reason ?? `aborted by hand (${hostname()})` }
        : { type: 'rollback', at, reason: request.reason ?? `rolled back by hand (${hostname()})` }
  const context = controlRollout(settings, rollout, { log: io.log, signal: new AbortController().signal })
  try {
    const queue: RolloutEvent[] = [event]
    while (queue.length > 0) {
      const next = transition(context.rollout, queue.shift()!)
      for (const note of next.notes ?? []) io.log(`${rollout.id}: ${note}`)
      context.save(next.rollout)
      if (next.actions.length === 0) continue
      const outcomes = await context.executor.run(context.rollout, next.actions)
      context.save(context.rollout)
      if (outcomes.some((outcome) => outcome.type === 'done')) queue.push({ type: 'actions-done', at: new Date().toISOString() })
    }
  } finally {
    await context.close()
  }
  return { action, via: 'direct', rollout: context.rollout, message: `${context.rollout.id} is ${context.rollout.status}` }
}

/**
 * `deploy resume`: a paused rollout whose controller still runs is asked to go on; otherwise this
 * process becomes the controller (a dead controller's lock is taken over; a live one refuses).
 */
export async function resumeRollout(settings: Settings, request: ActionRequest, io: ControllerIO): Promise<RolloutRun> {
  const paths = deployPaths(settings.stateDir)
  const rollout = pickRollout(settings, request, 'resume')
  if (isTerminal(rollout.status))
    throw badInput(`Rollout ${rollout.id} is already ${rollout.status}: nothing to resume`, `opsctl deploy status ${rollout.id}`)
  const lock = inspectLock(paths, rollout.id)
  if (lock?.alive) {
    if (rollout.status !== 'paused') throw controllerRunning(rollout.id, lock.holder)
    await recordEvent(settings, {
      kind: deployEvents.action.kind,
      subject: rollout.service,
      data: { rollout: rollout.id, action: 'resume', ...(request.reason ? { reason: request.reason } : {}) },
      links: { rollout: rollout.id },
    })
    appendInstruction(paths, rollout.id, {
      action: 'resume',
      ...(request.reason ? { reason: request.reason } : {}),
      at: new Date().toISOString(),
      pid: process.pid,
    })
    const deadline = Date.now() + (request.waitMs ?? 15_000)
    let current = rollout
    while (Date.now() < deadline) {
      current = readRollout(paths, rollout.id)
      if (current.status !== 'paused') break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return { rollout: current, verdict: rolloutVerdict(current), interrupted: false, instructed: true }
  }
  const reason =
    request.reason ??
    (rollout.status === 'paused'
      ? `resumed by hand (was paused: ${rollout.pause?.reason ?? ''})`
      : `a new controller took over (the last one, ${lock?.holder ? `process ${lock.holder.pid}` : 'unknown'}, is gone)`)
  switch (rollout.strategy) {
    case 'canary':
    case 'strangler':
      return resumeCanary(settings, rollout, reason, io)
    case 'bluegreen':
      return resumeBlueGreen(settings, rollout, reason, io)
    case 'rolling':
      return resumeRolling(settings, rollout, reason, io)
  }
}

// --- history --------------------------------------------------------------------------------

export interface HistoryEntry {
  rollout: string
  service: string
  strategy?: string
  version?: string
  startedAt: string
  endedAt?: string
  /** promoted, completed, rolled back, aborted, failed, halted, or running. */
  outcome: string
  reason?: string
  /** Highest weight the new version reached (canary). */
  maxWeight?: number
  verdicts: { pass: number; fail: number; inconclusive: number }
  lostRequests?: number
  flagKilled?: string
}

const OUTCOME_OF: Record<string, string> = {
  [deployEvents.promoted.kind]: 'promoted',
  [deployEvents.completed.kind]: 'completed',
  [deployEvents.rollback.kind]: 'rolled back',
  [deployEvents.aborted.kind]: 'aborted',
  [deployEvents.failed.kind]: 'failed',
  [deployEvents.halted.kind]: 'halted',
}

/** `deploy history`: past rollouts from the journal, newest first, with their outcomes. */
export async function rolloutHistory(
  settings: Settings,
  options: { service?: string | undefined; limit?: number | undefined } = {},
): Promise<HistoryEntry[]> {
  const service = options.service ? checkServiceName(options.service) : undefined
  const store = await openJournal(settings)
  const entries = new Map<string, HistoryEntry>()
  try {
    for await (const event of store.read({ kinds: ['deploy'], ...(service ? { subjects: [service] } : {}) })) addToHistory(entries, event)
  } finally {
    await store.close()
  }
  return [...entries.values()].reverse().slice(0, options.limit ?? 20)
}

function addToHistory(entries: Map<string, HistoryEntry>, event: JournalEvent): void {
  const id = event.links.rollout ?? (typeof event.data.rollout === 'string' ? event.data.rollout : undefined)
  if (!id) return
  let entry = entries.get(id)
  if (!entry) {
    entry = {
      rollout: id,
      service: event.subject,
      startedAt: event.time,
      outcome: 'running',
      verdicts: { pass: 0, fail: 0, inconclusive: 0 },
    }
    entries.set(id, entry)
  }
  const data = event.data
  if (deployEvents.started.is(event)) {
    entry.startedAt = event.time
    entry.version = event.data.version
    if (event.data.strategy) entry.strategy = event.data.strategy
  }
  if (deployEvents.step.is(event) || deployEvents.promoted.is(event)) entry.maxWeight = Math.max(entry.maxWeight ?? 0, event.data.weight)
  if (deployEvents.verdict.is(event)) entry.verdicts[event.data.verdict]++
  const outcome = OUTCOME_OF[event.kind]
  if (outcome) {
    entry.outcome = outcome
    entry.endedAt = event.time
    if (typeof data.reason === 'string') entry.reason = data.reason
    else delete entry.reason
    if (typeof data.lostRequests === 'number') entry.lostRequests = data.lostRequests
    if (typeof data.flagKilled === 'string') entry.flagKilled = data.flagKilled
  }
}

/** An action concludes as passed once it took effect; an abort or rollback still under way is inconclusive. */
export function actionVerdict(result: ActionResult): Verdict {
  const ending = result.action === 'abort' || result.action === 'rollback'
  if (ending && !isTerminal(result.rollout.status))
    return verdict('inconclusive', [result.message], { hint: `opsctl deploy status ${result.rollout.id}` })
  return verdict('pass', [])
}
