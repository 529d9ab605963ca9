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
import { ExitCode, badInput, type TerminalStream } from '../core/index.js'
import { loadFailure } from './assemble.js'
import { createLoadProgress } from './render.js'

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
  onProgress?(live: LiveStats, plan: LoadPlan, run: number): void
  /** Draw the live progress line here (only when it is an interactive terminal). */
  progress?: TerminalStream
  /** Stop sending on Ctrl-C / SIGTERM and return what was measured. */
  interruptible?: boolean
  note?(message: string): void
  signal?: AbortSignal
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
  const progress = options.progress ? createLoadProgress(options.progress) : undefined
  const interrupt = options.interruptible ? interruptOnSignals() : undefined
  const signal = options.signal && interrupt ? AbortSignal.any([options.signal, interrupt.signal]) : (options.signal ?? interrupt?.signal)
  try {
    const wanted = progress?.active || options.onProgress
    return await runPlanned({
      ...options,
      ...(signal ? { signal } : {}),
      ...(wanted
        ? {
            onProgress: (live: LiveStats, plan: LoadPlan, run: number) => {
              progress?.update(live, plan, run)
              options.onProgress?.(live, plan, run)
            },
          }
        : {}),
    })
  } finally {
    progress?.done()
    interrupt?.dispose()
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
    if (runs > 1) options.note?.(`Run ${run} of ${runs}...`)
    const onProgress = options.onProgress
    const result = await runOnce(plan, {
      ...(onProgress ? { onProgress: (live: LiveStats) => onProgress(live, plan, run) } : {}),
      note: options.note,
      signal: options.signal,
    })
    stats.push(result)
    if (result.interrupted) break
  }
  const result = assembleResult(plan, stats, baseline ? { baseline } : {})
  if (options.out) writeResultFile(options.out, result)
  return result
}

/** Ctrl-C (or SIGTERM) stops sending; the run returns what it measured and is marked interrupted. */
export function interruptOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  const onSignal = () => controller.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

/**
 * The verdict of a load command: interrupted is 130; otherwise loadFailure's exit 4 or 1. Without
 * --json the failure is thrown (the base command prints it); with --json the result is still the
 * one document on stdout, the message goes to stderr and the exit code is set.
 */
export function concludeLoad(result: LoadResult, output: { json: boolean; note(message: string): void }): LoadResult {
  if (result.aggregate.interrupted) {
    process.exitCode = ExitCode.Interrupted
    return result
  }
  const failure = loadFailure(result)
  if (!failure) return result
  if (!output.json) throw failure
  output.note(`Error: ${failure.message}${failure.hint ? `\nTry: ${failure.hint}` : ''}`)
  process.exitCode = failure.exit
  return result
}
