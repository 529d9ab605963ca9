/**
 * A load check: the scenario against the service, its thresholds, and optionally a regression
 * check of repeated runs against the stored baseline (compare.ts). Glue over the load module.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { badInput, combineVerdicts, type Config, formatDuration, isOpsError, parsePercent, verdict, type Verdict } from '../core/index.js'
import { loadVerdict, parseThresholdFlag, runLoad, writeResultFile, type LoadResult } from '../load/index.js'
import { loadBaselinePath, machineFacts, readLoadBaseline, writeLoadBaseline } from './baseline.js'
import { compareRuns, DEFAULT_RULES, toleranceOf, type RegressionRules, type RunSummary } from './compare.js'
import type { CheckContext } from './context.js'
import { withCpuPressure } from './pressure.js'
import type { CheckResult, Evidence } from './model.js'

export type GateCheck = Config['gate']['checks'][string]
export type LoadCheck = Extract<GateCheck, { type: 'load' }>

export function regressionRules(name: string, regression: NonNullable<LoadCheck['regression']>): RegressionRules {
  const percent = (key: keyof typeof regression) => parsePercent(String(regression[key]), `gate.checks.${name}.regression.${key}`)
  return {
    ...DEFAULT_RULES,
    metrics: regression.metrics,
    tolerance: percent('tolerance'),
    tailTolerance: percent('tailTolerance'),
    errorRateTolerance: percent('errorRateTolerance'),
    alpha: 1 - percent('confidence'),
    maxSpread: percent('maxSpread'),
    maxTailSpread: percent('maxTailSpread'),
    maxCpuPressure: percent('maxCpuPressure'),
  }
}

export function summarizeRun(run: LoadResult['runs'][number]): RunSummary {
  const round = (value: number) => Math.round(value * 1000) / 1000
  return {
    requests: run.requests.total,
    rps: round(run.rps),
    p50: round(run.latency.p50),
    p90: round(run.latency.p90),
    p99: round(run.latency.p99),
    errorRate: Math.round(run.errorRate * 1e6) / 1e6,
  }
}

export async function runLoadCheck(name: string, check: LoadCheck, context: CheckContext): Promise<Omit<CheckResult, 'durationMs'>> {
  const scenarioFile = resolve(context.rootDir, check.scenario)
  if (!existsSync(scenarioFile)) throw badInput(`gate.checks.${name}.scenario: ${check.scenario} does not exist`)
  const thresholds = check.thresholds.map((text) => {
    try {
      return parseThresholdFlag(text)
    } catch (error) {
      throw isOpsError(error) ? badInput(`gate.checks.${name}.thresholds: ${error.message}`, error.hint) : error
    }
  })
  const rules = check.regression ? regressionRules(name, check.regression) : undefined
  const runs = check.regression?.runs ?? 1
  // the reference build runs beside the service: compare with it rather than with the stored baseline
  const referenceUrl = rules && !context.updateBaseline ? context.referenceUrl : undefined
  const referenceRuns: LoadResult[] = []
  const { result, cpuPressure } = await withCpuPressure(() =>
    runLoad({
      source: { scenarioFile, ...(context.serviceUrl ? { target: context.serviceUrl } : {}) },
      overrides: { thresholds },
      runs,
      signal: context.signal,
      note: context.note,
      ...(context.onProgress ? { onProgress: context.onProgress } : {}),
      ...(referenceUrl
        ? { aroundRun: (run, position) => runReferenceBetween(run, position, { scenarioFile, referenceUrl, context, into: referenceRuns }) }
        : {}),
    }),
  )
  const resultFile = join(context.outDir, `${name}.load.json`)
  writeResultFile(resultFile, result)
  const summaries = result.runs.map(summarizeRun)
  const referenceSummaries = referenceRuns.map((run) => summarizeRun(run.runs[0]!))
  const measurement = loadVerdict(result)
  const evidence: Evidence[] = measurement.reasons.map((message) => ({ message }))
  const baselinePath = loadBaselinePath(context.baselineDir, name)
  let regression: Verdict = verdict('pass')
  let baseline: CheckResult['baseline']
  let comparison: ReturnType<typeof compareRuns> | undefined
  if (rules) {
    if (context.updateBaseline) {
      if (measurement.status !== 'invalid' && !result.aggregate.interrupted) {
        writeLoadBaseline(baselinePath, {
          kind: 'opsctl.gate.baseline',
          version: 1,
          check: name,
          type: 'load',
          createdAt: new Date().toISOString(),
          scenario: result.name,
          model: result.model,
          machine: machineFacts(),
          ...(cpuPressure !== undefined ? { cpuPressure: Math.round(cpuPressure * 1000) / 1000 } : {}),
          runs: summaries,
        })
        baseline = { path: baselinePath, state: 'updated' }
      }
    } else if (referenceUrl) {
      baseline = { path: referenceUrl, state: 'side-by-side' }
      const invalid = referenceRuns.findIndex((run) => !run.validity.valid)
      if (invalid >= 0 || referenceRuns.length < summaries.length) {
        const reasons =
          invalid >= 0
            ? referenceRuns[invalid]!.validity.reasons.map((reason) => `the reference build's run ${invalid + 1}: ${reason.message}`)
            : [`the reference build ran ${referenceRuns.length} of ${summaries.length} runs`]
        regression = verdict('invalid', reasons, {
          hint: 'Check gate.reference: the reference build must answer the scenario as the service does.',
        })
      } else {
        // both sides were measured in the same minutes, alike: CPU pressure shifts both, and is not
        // judged; each run is compared with the reference run next to it (interleavedOrder)
        comparison = compareRuns(referenceSummaries, summaries, rules, { design: 'paired' })
      }
    } else {
      const stored = readLoadBaseline(baselinePath)
      if (!stored) {
        baseline = { path: baselinePath, state: 'missing' }
        regression = verdict('inconclusive', [`no baseline for ${name} at ${baselinePath}`], {
          hint: 'Take one with opsctl gate --update-baseline on the main branch and commit .opsctl/baselines/.',
        })
      } else {
        baseline = { path: baselinePath, state: 'compared' }
        comparison = compareRuns(stored.runs, summaries, rules, { cpuPressure: { baseline: stored.cpuPressure, current: cpuPressure } })
      }
    }
  }
  if (comparison) {
    regression = comparison.verdict
    if (comparison.verdict.status === 'invalid') evidence.push(...comparison.verdict.reasons.map((message) => ({ message })))
    evidence.push(
      ...comparison.metrics.filter((metric) => metric.status !== 'unchanged').map((metric) => ({ message: metric.explanation })),
    )
  }
  const outcome = measurement.status === 'invalid' ? measurement : combineVerdicts([measurement, regression])
  // a comparison's reasons are its metrics' explanations, already there
  if (outcome.status === 'inconclusive' && !comparison && regression.reasons.length)
    evidence.push(...regression.reasons.map((message) => ({ message })))
  const agg = result.aggregate
  return {
    name,
    type: 'load',
    status: outcome.status,
    verdict: outcome,
    measured: `p50 ${formatDuration(agg.latency.p50)}, p99 ${formatDuration(agg.latency.p99)}, ${agg.rps.toFixed(1)} rps, ${(agg.errorRate * 100).toFixed(2)}% errors (${result.runs.length} run${result.runs.length === 1 ? '' : 's'})`,
    budget: [
      ...result.thresholds.map((outcome) => outcome.threshold),
      ...(rules
        ? [
            `no regression${referenceUrl ? ' against the reference build (side by side)' : ''} beyond ${rules.metrics.map((metric) => `${metric} ${tolerancePercent(toleranceOf(metric, rules), metric)}`).join(', ')} at ${Math.round((1 - rules.alpha) * 100)}% confidence`,
          ]
        : []),
    ].join('; '),
    evidence: dedupe(evidence),
    files: [{ label: 'load result', path: resultFile }],
    ...(baseline ? { baseline } : {}),
    details: {
      summary: result.summary,
      runs: summaries,
      thresholds: result.thresholds,
      validity: result.validity,
      ...(comparison ? { comparison: comparison.metrics } : {}),
      ...(referenceUrl
        ? {
            reference: {
              url: referenceUrl,
              runs: referenceSummaries,
              order: interleavedOrder(summaries.length),
              ...(cpuPressure !== undefined ? { cpuPressure: Math.round(cpuPressure * 1000) / 1000 } : {}),
            },
          }
        : {}),
    },
  }
}

/**
 * The reference build's runs, interleaved with the service's: R C C R R C C R …, so that what
 * drifts over the minutes of a check (another job on the machine, a cache warming up, a noisy
 * neighbour) falls on both sides alike, and a linear drift cancels out.
 */
export function interleavedOrder(runs: number): Array<'reference' | 'current'> {
  return Array.from({ length: runs }, (_, i): Array<'reference' | 'current'> =>
    i % 2 === 0 ? ['reference', 'current'] : ['current', 'reference'],
  ).flat()
}

async function runReferenceBetween(
  run: number,
  position: 'before' | 'after',
  options: { scenarioFile: string; referenceUrl: string; context: CheckContext; into: LoadResult[] },
): Promise<void> {
  // run 1: the reference first; run 2: the reference after; and so on
  if ((run % 2 === 1) !== (position === 'before') || options.context.signal.aborted) return
  options.context.note(`Reference run ${run}...`)
  const result = await runLoad({
    source: { scenarioFile: options.scenarioFile, target: options.referenceUrl },
    runs: 1,
    signal: options.context.signal,
  })
  if (!result.aggregate.interrupted) options.into.push(result)
}

function tolerancePercent(value: number, metric: string): string {
  return metric === 'error_rate' ? `${(value * 100).toFixed(2)} pp` : `${Math.round(value * 1000) / 10}%`
}

function dedupe(evidence: Evidence[]): Evidence[] {
  const seen = new Set<string>()
  return evidence.filter((item) => !seen.has(item.message) && seen.add(item.message))
}
