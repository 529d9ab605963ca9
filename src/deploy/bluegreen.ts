/**
 * `deploy bluegreen`: health and smoke checks on the preview, one atomic switch, the old side
 * kept (ready, weight 0) so that `deploy rollback` is one weight change; after the keep period it
 * is released. The command stays in the foreground through the keep period (Ctrl-C leaves it
 * switched and kept; `deploy resume` waits out the rest and releases).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { badInput, parseDuration, type Settings } from '../core/index.js'
import { hooksFrom, requireService } from './request.js'
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
import { isTerminal, type BlueGreenState, type Rollout } from './rollout.js'
import { resolveBackend, resolvePool } from './sides.js'

export interface BlueGreenRequest {
  service?: string | undefined
  active?: string | undefined
  preview?: string | undefined
  pool?: string | undefined
  smoke?: string | undefined
  keepMs?: number | undefined
  version?: string | undefined
  adminUrl?: string | undefined
  haproxySocket?: string | undefined
  hooks?: readonly string[] | undefined
}

export async function runBlueGreen(settings: Settings, request: BlueGreenRequest, io: ControllerIO): Promise<RolloutRun> {
  const config = settings.config.deploy
  const service = requireService(settings, request.service)
  const activeSpec = request.active ?? config.bluegreen.active
  const previewSpec = request.preview ?? config.bluegreen.preview
  if (!activeSpec || !previewSpec) throw badInput(`Give ${!activeSpec ? '--active' : '--preview'} (a URL or a backend name of the router)`)
  const smokeText = request.smoke ?? (config.bluegreen.smoke ? resolve(settings.rootDir, config.bluegreen.smoke) : undefined)
  const smoke = smokeText ? resolve(smokeText) : undefined
  if (smoke && !existsSync(smoke)) throw badInput(`--smoke: ${smoke} does not exist`, 'Give a load scenario file (see docs/load.md).')
  const keepMs = request.keepMs ?? parseDuration(config.bluegreen.keep, 'deploy.bluegreen.keep')
  const hooks = hooksFrom(settings, request.hooks)
  const pool = request.pool ?? config.pool

  const handle = openTraffic(settings, { adminUrl: request.adminUrl, haproxySocket: request.haproxySocket }, io.log)
  let prepared
  try {
    const snapshot = await handle.control.snapshot()
    const sides = [
      { spec: activeSpec, flag: '--active' },
      { spec: previewSpec, flag: '--preview' },
    ]
    const poolView = resolvePool(snapshot, { ...(pool ? { pool } : {}), sides })
    const active = resolveBackend(snapshot, poolView, sides[0]!)
    const preview = resolveBackend(snapshot, poolView, sides[1]!)
    if (active.name === preview.name) throw badInput(`--active and --preview are the same backend (${active.name})`)
    prepared = {
      pool: poolView.name,
      members: poolView.backends.map((backend) => backend.name),
      active,
      preview,
      engine: engineRef(handle, request.adminUrl),
    }
  } finally {
    await handle.close()
  }
  const { context, startedAt } = startRollout<BlueGreenState>(settings, service, io, (common) => ({
    ...common,
    version: request.version ?? prepared.preview.address,
    strategy: 'bluegreen',
    hooks,
    ...(smoke ? { smoke } : {}),
    healthPath: config.healthPath,
    healthTimeoutMs: parseDuration(config.healthTimeout, 'deploy.healthTimeout'),
    keepMs,
    phase: 'checking',
    checks: [],
    ...prepared,
  }))
  const rollout = context.rollout
  io.log(
    `${rollout.id}: blue/green of ${service} in pool ${rollout.pool}: ${rollout.active.name} (${rollout.active.address}) → ${rollout.preview.name} (${rollout.preview.address})`,
  )
  return driveBlueGreen(context, { type: 'start', at: startedAt })
}

export function resumeBlueGreen(settings: Settings, rollout: BlueGreenState, reason: string, io: ControllerIO): Promise<RolloutRun> {
  const context = controlRollout(settings, rollout, io)
  return driveBlueGreen(context, { type: 'resume', at: context.now(), reason })
}

function driveBlueGreen(context: ControllerContext<BlueGreenState>, first: Parameters<typeof driveRollout>[1]): Promise<RolloutRun> {
  return driveRollout(context, first, {
    sides: () => undefined,
    report(before: Rollout, after: Rollout) {
      const a = after as BlueGreenState
      const b = before as BlueGreenState
      const log = (message: string) => context.io.log(`${a.id}: ${message}`)
      if (a.phase === 'switched' && b.phase !== 'switched')
        log(`switched: 100% to ${a.preview.name}; ${a.active.name} kept until ${a.keepUntil}`)
      if (a.status === 'promoting' && b.status !== 'promoting') log(`keep period over: releasing ${a.active.name}`)
      if (a.status === 'rolling-back' && b.status !== 'rolling-back') log(`rolling back: ${a.outcome?.reason}`)
      if (isTerminal(a.status) && !isTerminal(b.status)) log(a.status)
    },
  })
}
