/**
 * `deploy canary` (and the strangler fig, a canary whose new side is another service behind a
 * path prefix): check everything before any traffic moves, then drive the state machine in the
 * foreground until the rollout is promoted, rolled back, paused for want of evidence, or Ctrl-C
 * leaves it paused for `deploy resume`.
 */
import { badInput, parseDuration, type Settings } from '../core/index.js'
import { runLoad } from '../load/index.js'
import type { AnalysisSpec } from './analysis.js'
import type { RolloutEvent } from './actions.js'
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
import { selectorsOf, type AnalysisSides } from './executor.js'
import { planSteps } from './plan.js'
import { readSeries, scrapeMetrics } from './prometheus.js'
import { isTerminal, type CanaryState } from './rollout.js'
import { resolveBackend, resolvePool, backendUrl } from './sides.js'
import { analysisFrom, hooksFrom, intervalOf, requireService } from './request.js'

export interface CanaryRequest {
  service?: string | undefined
  stable?: string | undefined
  canary?: string | undefined
  /** Strangler fig: the path prefix whose pool moves. */
  route?: string | undefined
  pool?: string | undefined
  steps?: string | undefined
  intervalMs?: number | undefined
  stepDurationMs?: number | undefined
  warmupMs?: number | undefined
  analysisFile?: string | undefined
  minSamples?: number | undefined
  maxInconclusive?: number | undefined
  killFlag?: string | undefined
  version?: string | undefined
  adminUrl?: string | undefined
  haproxySocket?: string | undefined
  /** `phase=command` pairs from --hook, added to deploy.hooks. */
  hooks?: readonly string[] | undefined
}

/** Everything checked, nothing changed: the rollout as it will start, minus its id. */
async function prepareCanary(settings: Settings, request: CanaryRequest, log: (message: string) => void) {
  const config = settings.config.deploy
  const service = requireService(settings, request.service)
  const stableSpec = request.stable ?? config.stable
  const canarySpec = request.canary ?? config.canary
  if (!stableSpec || !canarySpec)
    throw badInput(
      `Give ${!stableSpec ? '--stable' : '--canary'} (a URL or a backend name of the router), or deploy.${!stableSpec ? 'stable' : 'canary'} in opsctl.yaml`,
    )
  const intervalMs = intervalOf(settings, request.intervalMs)
  const holdMs = request.stepDurationMs ?? (config.stepDuration ? parseDuration(config.stepDuration, 'deploy.stepDuration') : intervalMs)
  const steps = planSteps(request.steps ?? config.steps, holdMs, request.steps !== undefined ? '--steps' : 'deploy.steps')
  const warmupMs = request.warmupMs ?? parseDuration(config.warmup, 'deploy.warmup')
  const analysis = analysisFrom(settings, request)
  const hooks = hooksFrom(settings, request.hooks)
  const route = request.route ?? config.route
  const pool = request.pool ?? config.pool

  const handle = openTraffic(settings, { adminUrl: request.adminUrl, haproxySocket: request.haproxySocket }, log)
  try {
    const snapshot = await handle.control.snapshot()
    const sides = [
      { spec: stableSpec, flag: '--stable' },
      { spec: canarySpec, flag: '--canary' },
    ]
    const poolView = resolvePool(snapshot, { ...(route ? { route } : {}), ...(pool ? { pool } : {}), sides })
    const stable = resolveBackend(snapshot, poolView, sides[0]!)
    const canary = resolveBackend(snapshot, poolView, sides[1]!)
    if (stable.name === canary.name) throw badInput(`--stable and --canary are the same backend (${stable.name})`)
    await checkSeries(settings, analysis, [stable.address, canary.address])
    const stats = await handle.control.stats()
    const canaryStats = stats.find((item) => item.backend === canary.name && item.pool === poolView.name)
    return {
      service,
      strategy: route ? ('strangler' as const) : ('canary' as const),
      engine: engineRef(handle, request.adminUrl),
      pool: poolView.name,
      members: poolView.backends.map((backend) => backend.name),
      stable,
      canary,
      steps,
      intervalMs,
      warmupMs,
      analysis,
      hooks,
      ...(route ? { route } : {}),
      baseline: { connection: canaryStats?.outcomes.connection ?? 0, retried: canaryStats?.retried ?? 0 },
    }
  } finally {
    await handle.close()
  }
}

/** Every Prometheus series a threshold names must exist on the backends now, or the rule is a typo: exit 2 at its line. */
async function checkSeries(settings: Settings, analysis: AnalysisSpec, addresses: string[]): Promise<void> {
  const selectors = selectorsOf({ analysis } as CanaryState)
  if (selectors.length === 0) return
  const found = new Set<string>()
  const errors: string[] = []
  for (const address of addresses) {
    const page = await scrapeMetrics(backendUrl(address, settings.config.deploy.metricsPath))
    if ('error' in page) {
      errors.push(page.error)
      continue
    }
    for (const [selector, value] of Object.entries(readSeries(page.text, selectors))) if (value !== undefined) found.add(selector)
  }
  const missing = analysis.thresholds.filter((rule) => rule.source.kind === 'prometheus' && !found.has(rule.source.selector.text))
  if (missing.length > 0)
    throw badInput(
      missing
        .map(
          (rule) =>
            `${rule.at ? `${rule.at}: ` : ''}prometheus: ${rule.source.kind === 'prometheus' ? rule.source.selector.text : ''}: unknown metric: no backend exposes it${errors.length ? ` (${errors.join('; ')})` : ''}`,
        )
        .join('\n'),
      `Check the name and labels against ${backendUrl(addresses[0]!, settings.config.deploy.metricsPath)}.`,
    )
}

export async function runCanary(settings: Settings, request: CanaryRequest, io: ControllerIO): Promise<RolloutRun> {
  const prepared = await prepareCanary(settings, request, io.log)
  const config = settings.config.deploy
  const { context, startedAt } = startRollout<CanaryState>(settings, prepared.service, io, (common) => ({
    ...common,
    version: request.version ?? prepared.canary.address,
    ...((request.killFlag ?? config.killFlag) ? { killFlag: request.killFlag ?? config.killFlag } : {}),
    stepIndex: -1,
    weight: 0,
    inconclusiveStreak: 0,
    passesInStep: 0,
    windows: 0,
    verdicts: [],
    ...prepared,
  }))
  const rollout = context.rollout
  io.log(
    `${rollout.id}: ${rollout.strategy} of ${rollout.service} in pool ${rollout.pool}: ${rollout.stable.name} (${rollout.stable.address}) → ${rollout.canary.name} (${rollout.canary.address})`,
  )
  return driveCanary(context, { type: 'start', at: startedAt })
}

/** `deploy resume` of a canary: a new controller takes over where the state says. */
export function resumeCanary(settings: Settings, rollout: CanaryState, reason: string, io: ControllerIO): Promise<RolloutRun> {
  const context = controlRollout(settings, rollout, io)
  return driveCanary(context, { type: 'resume', at: context.now(), reason })
}

export function driveCanary(context: ControllerContext<CanaryState>, first: RolloutEvent): Promise<RolloutRun> {
  const sides: AnalysisSides = { stable: [context.rollout.stable], canary: [context.rollout.canary] }
  const load = syntheticLoad(context)
  let lastHealthCheck = 0
  return driveRollout(context, first, {
    sides: () => sides,
    report: (before, after) => report(context, before as CanaryState, after as CanaryState),
    async watch(rollout) {
      load.keepRunning(rollout as CanaryState)
      const canary = rollout as CanaryState
      if (Date.now() - lastHealthCheck < 1000 || canary.weight === 0 || canary.status === 'rolling-back') return undefined
      lastHealthCheck = Date.now()
      return canaryDown(context)
    },
    stop: () => load.stop(),
  })
}

/** The canary backend is down (health checks, passive errors, or gone from the engine): that fails the rollout. */
async function canaryDown(context: ControllerContext<CanaryState>): Promise<string | undefined> {
  const snapshot = await context.traffic.snapshot()
  const pool = snapshot.pools.find((item) => item.name === context.rollout.pool)
  const backend = pool?.backends.find((item) => item.name === context.rollout.canary.name)
  if (!backend) return `the canary backend ${context.rollout.canary.name} is gone from pool ${context.rollout.pool}`
  if (!backend.health.up) return `the canary backend ${backend.name} is down${backend.health.reason ? `: ${backend.health.reason}` : ''}`
  return undefined
}

function report(context: ControllerContext<CanaryState>, before: CanaryState, after: CanaryState): void {
  const log = (message: string) => context.io.log(`${after.id}: ${message}`)
  const latest = after.verdicts.at(-1)
  if (latest && latest !== before.verdicts.at(-1)) {
    const side = (label: string, numbers: typeof latest.canary) =>
      `${label} ${numbers.requests} req, ${numbers.errors} err${numbers.p50 !== undefined ? `, p50 ${numbers.p50.toFixed(1)}ms` : ''}${numbers.p99 !== undefined ? `, p99 ${numbers.p99.toFixed(1)}ms` : ''}`
    log(`window at ${latest.weight}%: ${latest.status} (${side('canary', latest.canary)}; ${side('stable', latest.stable)})`)
    for (const reason of latest.status === 'pass' ? [] : latest.reasons) log(`  ${reason}`)
  }
  if (after.status === before.status && after.stepIndex === before.stepIndex) return
  if (after.status === 'progressing' && after.stepIndex !== before.stepIndex) {
    const step = after.steps[after.stepIndex]!
    log(`step ${step.step}/${after.steps.length}: ${step.weight}% to ${after.canary.name}`)
  } else if (after.status === 'paused') log(`paused: ${after.pause?.reason}`)
  else if (after.status === 'rolling-back') log(`rolling back: ${after.outcome?.reason}`)
  else if (after.status === 'promoting') log('promoting: 100% to the new version')
  else if (isTerminal(after.status)) log(`${after.status}`)
  else if (after.status === 'progressing' && before.status === 'paused') log('resumed')
}

/** The analysis file's `load:`: synthetic traffic through the router, one run per interval, while the canary is analysed. */
function syntheticLoad(context: ControllerContext<CanaryState>): { keepRunning(rollout: CanaryState): void; stop(): Promise<void> } {
  const spec = context.rollout.analysis.load
  let running: Promise<void> | undefined
  let controller: AbortController | undefined
  return {
    keepRunning(rollout) {
      if (!spec || running) return
      const analysing = rollout.status === 'progressing' || (rollout.status === 'paused' && rollout.pause?.kind === 'promotion')
      if (!analysing) return
      controller = new AbortController()
      running = runLoad({
        source: { scenarioFile: spec.scenario, ...(spec.target ? { target: spec.target } : {}) },
        overrides: { durationMs: rollout.intervalMs },
        signal: controller.signal,
      })
        .then(
          (result) => context.io.log(`${rollout.id}: synthetic load: ${result.aggregate.requests.total} requests`),
          (error: Error) => context.io.log(`${rollout.id}: synthetic load failed: ${error.message}`),
        )
        .finally(() => {
          running = undefined
        })
    },
    async stop() {
      controller?.abort()
      await running
    },
  }
}
