/** From flags and opsctl.yaml's deploy section to what a rollout needs: the service, interval, analysis, hooks. */
import { resolve } from 'node:path'
import { badInput, parseDuration, type Settings } from '../core/index.js'
import { defaultAnalysis, loadAnalysisFile, type AnalysisSpec } from './analysis.js'
import type { Hooks } from './rollout.js'
import { checkServiceName } from './store.js'

const HOOK_PHASES = {
  'pre-rollout': 'pre-rollout',
  preRollout: 'pre-rollout',
  step: 'step',
  rollback: 'rollback',
  promoted: 'promoted',
  release: 'release',
} as const

/** deploy.hooks from opsctl.yaml, plus --hook phase=command flags. */
export function hooksFrom(settings: Settings, flags: readonly string[] = []): Hooks {
  const config = settings.config.deploy.hooks
  const hooks: Hooks = {
    'pre-rollout': [...config.preRollout],
    step: [...config.step],
    rollback: [...config.rollback],
    promoted: [...config.promoted],
    release: [...config.release],
  }
  for (const flag of flags) {
    const at = flag.indexOf('=')
    const phase = at > 0 ? HOOK_PHASES[flag.slice(0, at).trim() as keyof typeof HOOK_PHASES] : undefined
    if (!phase || flag.slice(at + 1).trim() === '')
      throw badInput(
        `--hook ${JSON.stringify(flag)}: expected phase=command or phase=URL`,
        `Phases: ${Object.keys(HOOK_PHASES)
          .filter((key) => !key.includes('R'))
          .join(', ')}.`,
      )
    hooks[phase] = [...(hooks[phase] ?? []), flag.slice(at + 1).trim()]
  }
  return hooks
}

export function analysisFrom(
  settings: Settings,
  request: { analysisFile?: string | undefined; minSamples?: number | undefined; maxInconclusive?: number | undefined },
): AnalysisSpec {
  const config = settings.config.deploy
  const defaults = {
    minSamples: request.minSamples ?? config.minSamples,
    maxInconclusive: request.maxInconclusive ?? config.maxInconclusive,
  }
  const file = request.analysisFile ?? (config.analysis ? resolve(settings.rootDir, config.analysis) : undefined)
  const analysis = file ? loadAnalysisFile(file, defaults) : defaultAnalysis(defaults)
  // flags win over the file
  if (request.minSamples !== undefined) analysis.minSamples = request.minSamples
  if (request.maxInconclusive !== undefined) analysis.maxInconclusive = request.maxInconclusive
  return analysis
}

export function intervalOf(settings: Settings, intervalMs: number | undefined): number {
  const interval = intervalMs ?? parseDuration(settings.config.deploy.interval, 'deploy.interval')
  if (interval < 100)
    throw badInput(`--interval ${interval}ms is shorter than 100ms`, 'Analysis windows need time to collect requests: 30s is usual.')
  return interval
}

export function requireService(settings: Settings, service: string | undefined): string {
  const name = service ?? settings.config.deploy.service
  if (!name)
    throw badInput(
      'Which service? Give --service NAME (or deploy.service in opsctl.yaml)',
      'It names the rollout (api-3) and its journal events.',
    )
  return checkServiceName(name)
}
