/**
 * What the commands call: build the plan (quick form or scenario file), check the target, run
 * it N times, assemble the result, compare with a baseline, write --out.
 */
import { availableParallelism } from 'node:os'
import { assembleResult } from './assemble.js'
import { buildPlan, quickScenario, type PlanOverrides, type QuickForm } from './build-plan.js'
import type { LoadPlan } from './plan.js'
import type { LiveStats } from './recorder.js'
import { readResultFile, writeResultFile } from './result-file.js'
import type { LoadResult } from './result.js'
import { runOnce } from './runner.js'
import { loadScenarioFile } from './scenario-file.js'
import { probeTarget, resolveTarget } from './target.js'
import { badInput, type ProgressListener } from '../core/index.js'
import { loadProgressUpdate } from './render.js'

export type LoadSource = { url: QuickForm } | { scenarioFile: string; target?: string }

export interface LoadOptions {
  source: LoadSource
  overrides?: PlanOverrides
  /** Repeat the run this many times (for a comparison with samples from several runs). */
  runs?: number
  /** A result file to compare with. */
  baseline?: string
  /** Write the result here. */
  out?: string
  allowRemote?: boolean
  /** Live numbers of the run, about every second (the dashboard's feed). */
  onLive?(live: LiveStats, plan: LoadPlan, run: number): void
  /** Progress of the run as a task (the command draws it on a terminal). */
  onProgress?: ProgressListener
  note?(message: string): void
  /** Aborting it (Ctrl-C, in the command) stops sending; the run returns what it measured, marked interrupted. */
  signal?: AbortSignal
  /** Work done before and after each run, outside its measurement (the gate interleaves another target's runs). */
  aroundRun?(run: number, position: 'before' | 'after'): Promise<void>
}

/** The plan a load run would execute (scenario checked, target resolved), without running it. */
export async function planLoad(options: Pick<LoadOptions, 'source' | 'overrides' | 'allowRemote'>): Promise<LoadPlan> {
  const source = options.source
  const scenario = 'url' in source ? quickScenario(source.url) : loadScenarioFile(source.scenarioFile)
  const url = 'url' in source ? scenario.target! : (source.target ?? scenario.target)
  if (!url) throw badInput('The scenario has no target', 'Add target: http://127.0.0.1:3000 to the scenario, or pass --target.')
  const target = await resolveTarget(url, { allowRemote: options.allowRemote ?? false })
  return buildPlan(scenario, target, options.overrides ?? {}, { cores: availableParallelism() })
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { onLive, onProgress } = options
  let task: string | undefined
  try {
    return await runPlanned({
      ...options,
      ...(onLive || onProgress
        ? {
            onLive: (live: LiveStats, plan: LoadPlan, run: number) => {
              onLive?.(live, plan, run)
              if (!onProgress) return
              const update = loadProgressUpdate(live, plan, run)
              if (task !== undefined && task !== update.task) onProgress({ task, done: 0, total: 0, finished: true })
              task = update.task
              onProgress(update)
            },
          }
        : {}),
    })
  } finally {
    if (task !== undefined) onProgress?.({ task, done: 0, total: 0, finished: true })
  }
}

async function runPlanned(options: LoadOptions): Promise<LoadResult> {
  const runs = options.runs ?? 1
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw badInput(`--runs must be a whole number from 1 to 100, got ${runs}`)
  const plan = await planLoad(options)
  // read the baseline before spending minutes on the runs
  const baseline = options.baseline ? readResultFile(options.baseline) : undefined
  await probeTarget(plan.target)
  const stats = []
  for (let run = 1; run <= runs; run++) {
    await options.aroundRun?.(run, 'before')
    if (runs > 1) options.note?.(`Run ${run} of ${runs}...`)
    const onLive = options.onLive
    const result = await runOnce(plan, {
      ...(onLive ? { onProgress: (live: LiveStats) => onLive(live, plan, run) } : {}),
      note: options.note,
      signal: options.signal,
    })
    stats.push(result)
    if (result.interrupted) break
    await options.aroundRun?.(run, 'after')
  }
  const result = assembleResult(plan, stats, baseline ? { baseline } : {})
  if (options.out) writeResultFile(options.out, result)
  return result
}
