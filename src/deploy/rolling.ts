/**
 * `deploy rolling`: the instances of one pool replaced `maxUnavailable` at a time by the user's
 * command, each batch judged against the instances not yet replaced (or, for the last batch,
 * against those replaced before it) before the next one starts.
 */
import { badInput, parseDuration, type Settings } from '../core/index.js'
import type { RolloutEvent } from './actions.js'
import { analysisFrom, hooksFrom, intervalOf, requireService } from './request.js'
import {
  controlRollout,
  driveRollout,
  engineRef,
  openTraffic,
  startRollout,
  type ControllerContext,
  type ControllerIO,
  type RolloutRun,
} from './controller.js'
import type { AnalysisSides } from './executor.js'
import { isTerminal, type Rollout, type RollingState } from './rollout.js'
import { resolveBackend, resolvePool } from './sides.js'

export interface RollingRequest {
  service?: string | undefined
  instances?: readonly string[] | undefined
  command?: string | undefined
  maxUnavailable?: number | undefined
  pool?: string | undefined
  intervalMs?: number | undefined
  warmupMs?: number | undefined
  analysisFile?: string | undefined
  minSamples?: number | undefined
  maxInconclusive?: number | undefined
  commandTimeoutMs?: number | undefined
  version?: string | undefined
  adminUrl?: string | undefined
  haproxySocket?: string | undefined
  hooks?: readonly string[] | undefined
}

export async function runRolling(settings: Settings, request: RollingRequest, io: ControllerIO): Promise<RolloutRun> {
  const config = settings.config.deploy
  const service = requireService(settings, request.service)
  const specs = (request.instances?.length ? request.instances : config.rolling.instances)
    .flatMap((text) => text.split(','))
    .map((text) => text.trim())
    .filter(Boolean)
  if (specs.length === 0)
    throw badInput('Give --instances URL,URL,... (or deploy.rolling.instances)', 'The instances are backends of one pool of the router.')
  const command = request.command ?? config.rolling.command
  if (!command?.trim())
    throw badInput(
      'Give --command, the command that replaces one instance',
      "e.g. --command 'systemctl restart api@{name}'; {instance} is its URL.",
    )
  const maxUnavailable = request.maxUnavailable ?? config.rolling.maxUnavailable
  if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1)
    throw badInput(`--max-unavailable must be a whole number of 1 or more, got ${maxUnavailable}`)
  const intervalMs = intervalOf(settings, request.intervalMs)
  const warmupMs = request.warmupMs ?? parseDuration(config.warmup, 'deploy.warmup')
  const analysis = analysisFrom(settings, request)
  const hooks = hooksFrom(settings, request.hooks)
  const pool = request.pool ?? config.pool

  const handle = openTraffic(settings, { adminUrl: request.adminUrl, haproxySocket: request.haproxySocket }, io.log)
  let prepared
  try {
    const snapshot = await handle.control.snapshot()
    const sides = specs.map((spec, index) => ({ spec, flag: `--instances (${index + 1})` }))
    const poolView = resolvePool(snapshot, { ...(pool ? { pool } : {}), sides })
    const instances = sides.map((side) => resolveBackend(snapshot, poolView, side))
    const names = new Set(instances.map((instance) => instance.name))
    if (names.size !== instances.length) throw badInput('--instances names one backend twice')
    if (maxUnavailable >= instances.length && instances.length > 1)
      throw badInput(
        `--max-unavailable ${maxUnavailable} would take every instance out at once`,
        `At most ${instances.length - 1} of these ${instances.length}.`,
      )
    prepared = {
      pool: poolView.name,
      instances: instances.map((instance) => ({ ...instance, status: 'pending' as const })),
      engine: engineRef(handle, request.adminUrl),
    }
  } finally {
    await handle.close()
  }
  const { context, startedAt } = startRollout<RollingState>(settings, service, io, (common) => ({
    ...common,
    version: request.version ?? command,
    strategy: 'rolling',
    hooks,
    command,
    maxUnavailable,
    intervalMs,
    warmupMs,
    analysis,
    healthPath: config.healthPath,
    healthTimeoutMs: parseDuration(config.healthTimeout, 'deploy.healthTimeout'),
    commandTimeoutMs: request.commandTimeoutMs ?? parseDuration(config.rolling.commandTimeout, 'deploy.rolling.commandTimeout'),
    batch: [],
    inconclusiveStreak: 0,
    windows: 0,
    verdicts: [],
    ...prepared,
  }))
  const rollout = context.rollout
  io.log(`${rollout.id}: rolling ${service}: ${rollout.instances.map((instance) => instance.name).join(', ')}, ${maxUnavailable} at a time`)
  return driveRolling(context, { type: 'start', at: startedAt })
}

export function resumeRolling(settings: Settings, rollout: RollingState, reason: string, io: ControllerIO): Promise<RolloutRun> {
  const context = controlRollout(settings, rollout, io)
  return driveRolling(context, { type: 'resume', at: context.now(), reason })
}

/** The batch against the instances not yet replaced; the last batch against those replaced before it. */
export function rollingSides(rollout: RollingState): AnalysisSides | undefined {
  if (rollout.batch.length === 0) return undefined
  const canary = rollout.instances.filter((instance) => rollout.batch.includes(instance.name))
  const pending = rollout.instances.filter((instance) => instance.status === 'pending')
  const replaced = rollout.instances.filter((instance) => instance.status === 'replaced')
  return { canary, stable: pending.length > 0 ? pending : replaced }
}

function driveRolling(context: ControllerContext<RollingState>, first: RolloutEvent): Promise<RolloutRun> {
  return driveRollout(context, first, {
    sides: (rollout) => rollingSides(rollout as RollingState),
    report(before: Rollout, after: Rollout) {
      const a = after as RollingState
      const b = before as RollingState
      const log = (message: string) => context.io.log(`${a.id}: ${message}`)
      if (a.phase === 'replacing' && (b.phase !== 'replacing' || a.batch.join() !== b.batch.join())) log(`replacing ${a.batch.join(', ')}`)
      if (a.phase === 'analysing' && b.phase !== 'analysing') log(`${a.batch.join(', ')} healthy and back in rotation: analysing`)
      const latest = a.verdicts.at(-1)
      if (latest && latest !== b.verdicts.at(-1))
        log(`window: ${latest.status}${latest.status === 'pass' ? '' : `: ${latest.reasons.join('; ')}`}`)
      if (a.status === 'paused' && b.status !== 'paused') log(`paused: ${a.pause?.reason}`)
      if (isTerminal(a.status) && !isTerminal(b.status)) log(`${a.status}${a.outcome ? `: ${a.outcome.reason}` : ''}`)
    },
  })
}
