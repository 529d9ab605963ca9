/**
 * Carries out a state machine's actions against the adapters: weights and drains through
 * `TrafficControl`, hooks, the flag kill switch, analysis windows (router samples and the
 * backends' Prometheus series, judged), journal records. Shared by the controller and by the
 * commands that act directly when no controller runs (abort, rollback). What an action finds
 * comes back as events (a verdict, a failure) for the machine.
 */
import { recordEvent } from '../journal/index.js'
import { changeFlag } from '../flags/index.js'
import { loadVerdict, runLoad } from '../load/index.js'
import type { Settings } from '../core/index.js'
import type { BackendStats, TrafficControl } from '../traffic/index.js'
import type { PrometheusSelector } from './analysis.js'
import type { RolloutAction } from './actions.js'
import { deployEvents } from './events.js'
import { describeHookResult, runHook, runShell, type HookContext } from './hooks.js'
import { readSeries, scrapeMetrics, seriesValue } from './prometheus.js'
import type { HookPhase, Rollout } from './rollout.js'
import { backendUrl } from './sides.js'
import { judgeWindow, type WindowVerdict } from './window.js'

export interface ExecutorIO {
  log(message: string): void
  signal?: AbortSignal
}

/** What running a batch of actions found. */
export type ActionOutcome = { type: 'verdict'; verdict: WindowVerdict } | { type: 'failure'; reason: string } | { type: 'done' }

export interface AnalysisSides {
  stable: Array<{ name: string; address: string }>
  canary: Array<{ name: string; address: string }>
}

export class Executor {
  /** Found while rolling back: added to the rollback's journal record. */
  private found: Record<string, unknown> = {}
  /** Prometheus values per backend at the start of the current window (counters need both ends). */
  private seriesAtStart = new Map<string, Record<string, number | undefined>>()

  constructor(
    private readonly settings: Settings,
    private readonly traffic: TrafficControl,
    private readonly io: ExecutorIO,
  ) {}

  /** Runs actions in order; stops at the first that fails the rollout (a failing hook that `fails`). */
  async run(
    rollout: Rollout,
    actions: readonly RolloutAction[],
    context: Partial<HookContext> & { sides?: AnalysisSides } = {},
  ): Promise<ActionOutcome[]> {
    const outcomes: ActionOutcome[] = []
    for (const action of actions) {
      switch (action.type) {
        case 'weights':
          await this.traffic.setWeights(rollout.pool, action.weights)
          this.io.log(
            `${rollout.id}: weights ${Object.entries(action.weights)
              .map(([name, weight]) => `${name}=${weight}`)
              .join(', ')}`,
          )
          break
        case 'ready': {
          const snapshot = await this.traffic.snapshot()
          const backend = snapshot.pools.flatMap((pool) => pool.backends).find((item) => item.name === action.backend)
          if (backend && backend.state !== 'ready') {
            await this.traffic.setState(action.backend, 'ready')
            this.io.log(`${rollout.id}: ${action.backend} back in rotation (was ${backend.state})`)
          }
          break
        }
        case 'drain': {
          const result = await this.traffic.drain(action.backend, { timeoutMs: rollout.drainTimeoutMs })
          this.found.drain = result
          this.io.log(
            `${rollout.id}: drained ${action.backend}${result.drained ? '' : `: ${result.remaining} request(s) still in flight after ${result.waitedMs} ms`}`,
          )
          const lost = await this.lostRequests(rollout, action.backend)
          if (lost !== undefined) {
            this.found.lostRequests = lost
            if (rollout.outcome) rollout.outcome.lostRequests = lost
          }
          break
        }
        case 'hook': {
          const failed = await this.runHooks(rollout, action.phase, {
            ...context,
            ...(action.instance ? { instance: action.instance } : {}),
          })
          if (failed && action.fails) {
            outcomes.push({ type: 'failure', reason: failed })
            return outcomes
          }
          break
        }
        case 'kill-flag':
          try {
            const change = await changeFlag({ settings: this.settings }, { action: 'kill', name: action.flag, reason: action.reason })
            this.found.flagKilled = action.flag
            this.found.flagSource = change.source
            if (rollout.outcome) rollout.outcome.flagKilled = action.flag
            this.io.log(`${rollout.id}: feature flag ${action.flag} killed (${change.source})`)
          } catch (error) {
            this.found.flagKillError = (error as Error).message
            if (rollout.outcome) rollout.outcome.flagKillError = `${action.flag}: ${(error as Error).message}`
            this.io.log(`${rollout.id}: could not kill feature flag ${action.flag}: ${(error as Error).message}`)
          }
          break
        case 'analyse': {
          if (!context.sides) break
          const verdict = await this.analyse(rollout, context.sides, action.from)
          outcomes.push({ type: 'verdict', verdict })
          break
        }
        case 'health': {
          const failed = await this.waitHealthy(rollout, action.backend, action.address)
          if (failed) {
            outcomes.push({ type: 'failure', reason: failed })
            return outcomes
          }
          break
        }
        case 'smoke': {
          const failed = await this.smoke(rollout, action.scenario, action.target)
          if (failed) {
            outcomes.push({ type: 'failure', reason: failed })
            return outcomes
          }
          break
        }
        case 'replace': {
          const failed = await this.replace(rollout, action.backend, action.address)
          if (failed) {
            outcomes.push({ type: 'failure', reason: failed })
            return outcomes
          }
          break
        }
        case 'record': {
          const rollback = (
            [deployEvents.rollback.kind, deployEvents.aborted.kind, deployEvents.failed.kind, deployEvents.halted.kind] as string[]
          ).includes(action.kind)
          await this.record(rollout, action.kind, rollback ? { ...action.data, ...this.found } : action.data)
          if (rollback) this.found = {}
          break
        }
      }
    }
    outcomes.push({ type: 'done' })
    return outcomes
  }

  /**
   * The backend answers its health path with 2xx, and the engine sees it up, within the rollout's
   * health timeout; undefined when it does, else why not.
   */
  async waitHealthy(rollout: Rollout, backend: string, address: string): Promise<string | undefined> {
    if (!('healthTimeoutMs' in rollout)) return undefined
    const url = backendUrl(address, rollout.healthPath)
    const deadline = Date.now() + rollout.healthTimeoutMs
    let last = 'no answer yet'
    let answered = false
    while (Date.now() < deadline) {
      if (!answered) {
        try {
          const answer = await fetch(url, { signal: AbortSignal.timeout(Math.min(5000, rollout.healthTimeoutMs)) })
          await answer.arrayBuffer()
          if (answer.status >= 200 && answer.status < 300) answered = true
          else last = `${url} answered ${answer.status}`
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause
          last = `${url}: ${cause?.code ?? (error as Error).message}`
        }
      }
      if (answered) {
        const snapshot = await this.traffic.snapshot()
        const view = snapshot.pools.flatMap((pool) => pool.backends).find((item) => item.name === backend)
        if (view?.health.up) {
          this.check(rollout, `health of ${backend}`, 'pass', [
            `${url} answered 2xx; the ${snapshot.engine === 'haproxy' ? 'HAProxy' : 'router'} sees it up`,
          ])
          return undefined
        }
        last = `${url} answers, but the ${snapshot.engine === 'haproxy' ? 'HAProxy' : 'router'} still has it down${view?.health.reason ? ` (${view.health.reason})` : ''}`
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const reason = `${backend} was not healthy within ${rollout.healthTimeoutMs} ms: ${last}`
    this.check(rollout, `health of ${backend}`, 'fail', [reason])
    return reason
  }

  /** Blue/green: the smoke scenario straight at the preview; its thresholds decide. */
  private async smoke(rollout: Rollout, scenario: string, address: string): Promise<string | undefined> {
    const target = backendUrl(address, '').replace(/\/$/, '')
    this.io.log(`${rollout.id}: smoke test ${scenario} against ${target}`)
    try {
      const result = await runLoad({ source: { scenarioFile: scenario, target } })
      const outcome = loadVerdict(result)
      const numbers = `${result.aggregate.requests.total} requests, ${result.aggregate.requests.failed} failed`
      this.check(rollout, `smoke ${scenario}`, outcome.status, [numbers, ...outcome.reasons])
      this.io.log(
        `${rollout.id}: smoke test ${outcome.status}: ${numbers}${outcome.reasons.length ? `; ${outcome.reasons.join('; ')}` : ''}`,
      )
      if (outcome.status === 'pass') return undefined
      return `the smoke test ${outcome.status === 'invalid' ? 'could not be trusted' : 'failed'} against the preview: ${outcome.reasons.join('; ')}`
    } catch (error) {
      this.check(rollout, `smoke ${scenario}`, 'fail', [(error as Error).message])
      return `the smoke test could not run: ${(error as Error).message}`
    }
  }

  /** Rolling: the user's command for one instance; {instance} is its URL, {name} and {address} as the engine knows them. */
  private async replace(rollout: Rollout, backend: string, address: string): Promise<string | undefined> {
    if (rollout.strategy !== 'rolling') return undefined
    const url = address.includes('://') ? address : `http://${address}`
    const command = rollout.command.replaceAll('{instance}', url).replaceAll('{name}', backend).replaceAll('{address}', address)
    this.io.log(`${rollout.id}: replacing ${backend}: ${command}`)
    const result = await runShell(
      command,
      { OPSCTL_ROLLOUT: rollout.id, OPSCTL_SERVICE: rollout.service, OPSCTL_INSTANCE: url, OPSCTL_INSTANCE_NAME: backend },
      rollout.commandTimeoutMs,
    )
    const instance = rollout.instances.find((item) => item.name === backend)
    if (instance) instance.command = { exitCode: result.exitCode, durationMs: 0, outputTail: result.outputTail }
    if (result.status === 'passed') return undefined
    const last = result.outputTail.split('\n').filter(Boolean).at(-1)
    return `the command for ${backend} ${result.status === 'timed-out' ? `ran longer than ${rollout.commandTimeoutMs} ms` : `exited with ${result.exitCode ?? result.error}`}${last ? `: ${last.slice(0, 200)}` : ''}`
  }

  private check(rollout: Rollout, name: string, status: 'pass' | 'fail' | 'inconclusive' | 'invalid', reasons: string[]): void {
    if (rollout.strategy !== 'bluegreen') return
    rollout.checks = [...rollout.checks.filter((item) => item.name !== name), { name, status, reasons }]
  }

  async record(rollout: Rollout, kind: string, data: Record<string, unknown>): Promise<void> {
    try {
      await recordEvent(this.settings, {
        kind,
        subject: rollout.service,
        data: { rollout: rollout.id, ...data },
        links: { rollout: rollout.id },
      })
    } catch (error) {
      this.io.log(`${rollout.id}: could not record ${kind} in the journal: ${(error as Error).message}`)
    }
  }

  /** Every hook of the phase, in order; the first failure's description, or undefined. */
  async runHooks(rollout: Rollout, phase: HookPhase, context: Partial<HookContext>): Promise<string | undefined> {
    for (const hook of rollout.hooks[phase] ?? []) {
      const result = await runHook(
        hook,
        {
          rollout: rollout.id,
          service: rollout.service,
          strategy: rollout.strategy,
          phase,
          ...stepContext(rollout),
          ...withoutSides(context),
        },
        rollout.hookTimeoutMs,
      )
      const line = describeHookResult(result)
      this.io.log(`${rollout.id}: ${line}`)
      await this.record(rollout, deployEvents.hook.kind, {
        phase,
        hook,
        status: result.status,
        durationMs: result.durationMs,
        ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
        ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
        ...(result.outputTail ? { outputTail: result.outputTail } : {}),
        ...(result.error ? { error: result.error } : {}),
      })
      if (result.status !== 'passed') return line
    }
    return undefined
  }

  /** The backends' Prometheus series now: the start of the next window. */
  async primeSeries(rollout: Rollout, sides: AnalysisSides): Promise<void> {
    const selectors = selectorsOf(rollout)
    if (selectors.length === 0) return
    for (const backend of [...sides.stable, ...sides.canary])
      this.seriesAtStart.set(backend.name, await this.scrape(rollout, backend.address, selectors))
  }

  async analyse(rollout: Rollout, sides: AnalysisSides, from: string): Promise<WindowVerdict> {
    if (!('analysis' in rollout)) throw new Error('analyse on a rollout without analysis')
    const window = await this.traffic.samples({ since: from })
    const selectors = selectorsOf(rollout)
    let prometheus: { stable: Record<string, number | undefined>; canary: Record<string, number | undefined> } | undefined
    if (selectors.length > 0) {
      const sideValues = async (backends: AnalysisSides['stable']) => {
        const sums: Record<string, number | undefined> = {}
        for (const backend of backends) {
          const end = await this.scrape(rollout, backend.address, selectors)
          const start = this.seriesAtStart.get(backend.name) ?? {}
          this.seriesAtStart.set(backend.name, end)
          for (const rule of rollout.analysis.thresholds) {
            if (rule.source.kind !== 'prometheus') continue
            const value = seriesValue(rule.source.type, start[rule.source.selector.text], end[rule.source.selector.text])
            if (value !== undefined) sums[rule.source.selector.text] = (sums[rule.source.selector.text] ?? 0) + value
          }
        }
        return sums
      }
      prometheus = { stable: await sideValues(sides.stable), canary: await sideValues(sides.canary) }
    }
    return judgeWindow(
      {
        window,
        stable: sides.stable.map((backend) => backend.name),
        canary: sides.canary.map((backend) => backend.name),
        ...(prometheus ? { prometheus } : {}),
      },
      rollout.analysis,
    )
  }

  private async scrape(
    rollout: Rollout,
    address: string,
    selectors: readonly PrometheusSelector[],
  ): Promise<Record<string, number | undefined>> {
    const url = backendUrl(address, this.settings.config.deploy.metricsPath)
    const page = await scrapeMetrics(url)
    if ('error' in page) {
      this.io.log(`${rollout.id}: cannot read metrics: ${page.error}`)
      return {}
    }
    return readSeries(page.text, selectors)
  }

  /** Requests a backend could not answer that the router could not move elsewhere, since the rollout began. */
  private async lostRequests(rollout: Rollout, backend: string): Promise<number | undefined> {
    if (!('baseline' in rollout) || !rollout.baseline) return undefined
    const stats = await this.traffic.stats().catch(() => [] as BackendStats[])
    const stat = stats.find((item) => item.backend === backend)
    if (!stat) return undefined
    const lost = stat.outcomes.connection - (stat.retried ?? 0) - (rollout.baseline.connection - rollout.baseline.retried)
    return Math.max(0, lost)
  }
}

export function selectorsOf(rollout: Rollout): PrometheusSelector[] {
  if (!('analysis' in rollout)) return []
  const seen = new Map<string, PrometheusSelector>()
  for (const rule of rollout.analysis.thresholds)
    if (rule.source.kind === 'prometheus') seen.set(rule.source.selector.text, rule.source.selector)
  return [...seen.values()]
}

function stepContext(rollout: Rollout): Partial<HookContext> {
  if (rollout.strategy !== 'canary' && rollout.strategy !== 'strangler') return {}
  const step = rollout.steps[rollout.stepIndex]
  return { weight: rollout.weight, ...(step ? { step: step.step } : {}), ...(rollout.outcome ? { reason: rollout.outcome.reason } : {}) }
}

function withoutSides(context: Partial<HookContext> & { sides?: AnalysisSides }): Partial<HookContext> {
  const { sides: _sides, ...rest } = context
  return rest
}
