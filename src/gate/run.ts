/**
 * `opsctl gate`: read the budget (gate: in opsctl.yaml), check it before anything starts, start
 * the service under test, run the checks, stop the service (always: also when a check throws or
 * the user presses Ctrl-C), combine the verdicts, write the reports and record the verdict in
 * the journal. Glue.
 */
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import {
  badInput,
  combineVerdicts,
  parseDuration,
  parsePercent,
  redactValue,
  verdict,
  type ProgressListener,
  type Settings,
} from '../core/index.js'
import { recordEvent } from '../journal/index.js'
import { parseThresholdFlag } from '../load/index.js'
import { regressionRules, runLoadCheck, type GateCheck } from './check-load.js'
import { runExplainCheck } from './check-explain.js'
import { runNPlusOneCheck, sendNPlusOneTraffic, usesLiveHook } from './check-nplusone.js'
import { runProfileCheck } from './check-profile.js'
import type { CheckContext } from './context.js'
import { gateEvents } from './events.js'
import { displayPath, REPORT_KIND, REPORT_VERSION, type CheckResult, type GateReport } from './model.js'
import { renderJUnit } from './report-junit.js'
import { renderMarkdown } from './report-markdown.js'
import { describeCommand, describeExit, startService, type RunningService, type ServiceSpec } from './service.js'

export interface GateOptions {
  settings: Settings
  /** Store new baselines instead of comparing with the stored ones. */
  updateBaseline?: boolean
  /** Run only these checks (by name). */
  only?: readonly string[]
  /** Write JUnit XML here. */
  junit?: string
  /** Write the Markdown report here. */
  markdown?: string
  /** GITHUB_ACTIONS and GITHUB_STEP_SUMMARY are read from it. */
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  note?(message: string): void
  onProgress?: ProgressListener
}

export async function runGate(options: GateOptions): Promise<GateReport> {
  const { settings } = options
  const gate = settings.config.gate
  const env = options.env ?? process.env
  const note = options.note ?? (() => {})
  const signal = options.signal ?? new AbortController().signal
  const rootDir = settings.rootDir
  const checks = selectChecks(gate.checks, options.only)
  const service = gate.service ? serviceSpec(gate.service, rootDir, 'gate.service') : undefined
  const reference = gate.reference ? serviceSpec(gate.reference, rootDir, 'gate.reference') : undefined
  if (reference && !service)
    throw badInput('gate.reference: a reference build is compared with the service the gate starts', 'Configure gate.service too.')
  for (const [name, check] of checks) validateCheck(name, check, rootDir, Boolean(service))
  // the reference build is measured beside the service by load checks that compare (not when storing baselines)
  const needsReference =
    reference !== undefined && !options.updateBaseline && checks.some(([, check]) => check.type === 'load' && check.regression)

  const startedAt = new Date()
  const outDir = resolve(rootDir, gate.out)
  const baselineDir = resolve(rootDir, gate.baselines)
  mkdirSync(outDir, { recursive: true })
  const needsService = checks.some(
    ([, check]) => check.type === 'load' || (check.type === 'nplusone' && (usesLiveHook(check) || check.requests.length > 0)),
  )
  const live = checks.some(([, check]) => check.type === 'nplusone' && usesLiveHook(check))
  const queryLog = live ? join(outDir, 'queries.jsonl') : undefined
  if (queryLog) rmSync(queryLog, { force: true })
  const serviceUrl = gate.service ? (gate.service.url ?? new URL(gate.service.readyUrl).origin) : undefined
  const context: CheckContext = {
    settings,
    rootDir,
    baselineDir,
    outDir,
    updateBaseline: options.updateBaseline ?? false,
    ...(serviceUrl ? { serviceUrl } : {}),
    ...(service ? { service } : {}),
    ...(queryLog ? { queryLog } : {}),
    signal,
    note,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  }

  const results = new Map<string, CheckResult>()
  const timed = async (name: string, work: () => Promise<Omit<CheckResult, 'durationMs'>>) => {
    const started = Date.now()
    note(`Check ${name}...`)
    const result = await work()
    results.set(name, { ...result, durationMs: Date.now() - started })
  }
  let running: RunningService | undefined
  let serviceReport: GateReport['service']
  let runningReference: RunningService | undefined
  let referenceReport: GateReport['reference']
  try {
    if (needsService && service) {
      note(`Starting the service: ${describeCommand(service.command)}`)
      running = await startService(
        { ...service, env: { ...service.env, ...(queryLog ? { OPSCTL_QUERY_LOG: queryLog } : {}) } },
        { signal, note },
      )
      serviceReport = { command: describeCommand(service.command), url: serviceUrl!, pid: running.pid }
    }
    if (needsReference && service) {
      note(`Starting the reference build: ${describeCommand(reference.command)}`)
      runningReference = await startService(reference, { signal, note })
      const url = gate.reference!.url ?? new URL(gate.reference!.readyUrl).origin
      referenceReport = { command: describeCommand(reference.command), url, pid: runningReference.pid }
      context.referenceUrl = url
    }
    // while the service runs: load checks, the N+1 checks' traffic, plans
    for (const [name, check] of checks) {
      if (signal.aborted) break
      if (check.type === 'load') await timed(name, () => runLoadCheck(name, check, context))
      else if (check.type === 'explain') await timed(name, () => runExplainCheck(name, check, context))
      else if (check.type === 'nplusone') await sendNPlusOneTraffic(name, check, context)
    }
  } catch (error) {
    // Ctrl-C while the service was starting: reported as interrupted, like any other moment
    if (!(signal.aborted && (error as Error).name === 'AbortError')) throw error
  } finally {
    if (runningReference) {
      const exit = await runningReference.stop()
      if (referenceReport) referenceReport.exit = { code: exit.code, signal: exit.signal }
      if (!exit.stoppedByGate) note(`The reference build exited on its own during the checks (${describeExit(exit)}).`)
    }
    if (running) {
      // stopping first lets the service flush its query log
      const exit = await running.stop()
      context.serviceOutput = running.outputTail()
      if (serviceReport) serviceReport.exit = { code: exit.code, signal: exit.signal }
      if (!exit.stoppedByGate) note(`The service exited on its own during the checks (${describeExit(exit)}).`)
    }
  }
  // after the service: the N+1 analysis of what it logged, and profiles (each starts its own instance)
  for (const [name, check] of checks) {
    if (signal.aborted) break
    if (check.type === 'nplusone') await timed(name, () => runNPlusOneCheck(name, check, context))
    else if (check.type === 'profile') await timed(name, () => runProfileCheck(name, check, context))
  }

  const ordered = checks.map(([name]) => results.get(name)).filter((result): result is CheckResult => result !== undefined)
  const interrupted = signal.aborted
  const combined = interrupted ? verdict('invalid', ['the gate was interrupted']) : combineVerdicts(ordered.map((result) => result.verdict))
  const finishedAt = new Date()
  const report: GateReport = {
    kind: REPORT_KIND,
    version: REPORT_VERSION,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    mode: options.updateBaseline ? 'update-baseline' : 'check',
    ...(serviceReport ? { service: serviceReport } : {}),
    ...(referenceReport ? { reference: referenceReport } : {}),
    checks: ordered.map((result) => ({ ...result, files: result.files.map((file) => ({ ...file, path: displayPath(file.path) })) })),
    status: combined.status,
    verdict: combined,
    baselines: {
      dir: displayPath(baselineDir),
      updated: ordered
        .filter((result) => result.baseline?.state === 'updated')
        .flatMap((result) => result.baseline!.path.split(', ').map(displayPath)),
    },
    files: { dir: displayPath(outDir) },
    ...(interrupted ? { interrupted: true as const } : {}),
  }
  writeReports(report, options, env)
  if (!interrupted) report.journal = await recordVerdict(settings, report)
  return report
}

function selectChecks(all: Record<string, GateCheck>, only: readonly string[] | undefined): Array<[string, GateCheck]> {
  const entries = Object.entries(all)
  if (entries.length === 0) {
    throw badInput(
      'opsctl.yaml has no gate checks',
      'Add them under gate.checks (see docs/gate.md), e.g. a load check with a scenario and thresholds.',
    )
  }
  if (!only?.length) return entries
  const unknown = only.filter((name) => !(name in all))
  if (unknown.length) throw badInput(`No gate check named ${unknown.join(', ')}`, `The checks are: ${Object.keys(all).join(', ')}.`)
  return entries.filter(([name]) => only.includes(name))
}

function serviceSpec(service: NonNullable<Settings['config']['gate']['service']>, rootDir: string, key: string): ServiceSpec {
  return {
    command: service.command,
    cwd: resolve(rootDir, service.cwd ?? '.'),
    env: service.env,
    readyUrl: service.readyUrl,
    startTimeoutMs: parseDuration(service.startTimeout, `${key}.startTimeout`),
    stopTimeoutMs: parseDuration(service.stopTimeout, `${key}.stopTimeout`),
  }
}

/** Everything that can be wrong in the budget is found before a service starts or a run begins (exit 2). */
function validateCheck(name: string, check: GateCheck, rootDir: string, hasService: boolean): void {
  const key = `gate.checks.${name}`
  const exists = (file: string, what: string) => {
    if (!existsSync(resolve(rootDir, file))) throw badInput(`${key}.${what}: ${file} does not exist (relative to ${rootDir})`)
  }
  if (check.type === 'load') {
    exists(check.scenario, 'scenario')
    for (const text of check.thresholds) {
      try {
        parseThresholdFlag(text)
      } catch (error) {
        throw badInput(`${key}.thresholds: ${(error as Error).message}`)
      }
    }
    if (check.regression) regressionRules(name, check.regression)
  } else if (check.type === 'nplusone') {
    for (const file of [...(check.log ?? []), ...(check.otlp ?? [])])
      if (!/[*?]/.test(file)) exists(file, check.log?.includes(file) ? 'log' : 'otlp')
    if ((usesLiveHook(check) || check.requests.length > 0) && !hasService)
      throw badInput(
        `${key}: the live N+1 hook needs gate.service (the gate starts the service and reads its query log)`,
        'Configure gate.service, or give log: or otlp: files.',
      )
  } else if (check.type === 'profile') {
    parsePercent(check.maxGrowth, `${key}.maxGrowth`)
    parseDuration(check.duration, `${key}.duration`)
    if (check.scenario) exists(check.scenario, 'scenario')
    if (!hasService) throw badInput(`${key}: a profile check starts the service with gate.service's settings`, 'Configure gate.service.')
  }
}

/** The report files, rendered from redacted data (the service's output, statements and commands may hold secrets). */
function writeReports(report: GateReport, options: GateOptions, env: NodeJS.ProcessEnv): void {
  const shown = redactValue(report)
  if (options.junit) {
    writeTextFile(options.junit, renderJUnit(shown))
    report.files.junit = displayPath(options.junit)
  }
  if (options.markdown) {
    writeTextFile(options.markdown, renderMarkdown(shown, { linkFrom: dirname(resolve(options.markdown)) }))
    report.files.markdown = displayPath(options.markdown)
  }
  const summary = env.GITHUB_STEP_SUMMARY
  if (env.GITHUB_ACTIONS === 'true' && summary) {
    appendFileSync(summary, `${renderMarkdown(shown, { linkFrom: process.cwd() })}\n`)
    report.files.stepSummary = summary
  }
}

function writeTextFile(path: string, text: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true })
  writeFileSync(path, text)
}

async function recordVerdict(settings: Settings, report: GateReport): Promise<NonNullable<GateReport['journal']>> {
  try {
    const event = await recordEvent(settings, {
      kind: gateEvents.verdict.kind,
      subject: settings.config.service.name,
      data: {
        verdict: report.status,
        mode: report.mode,
        failed: report.checks.filter((check) => check.status !== 'pass').map((check) => check.name),
        checks: report.checks.map((check) => ({ name: check.name, type: check.type, status: check.status, measured: check.measured })),
        reasons: report.verdict.reasons.slice(0, 20),
        durationMs: report.durationMs,
      },
    })
    return { recorded: true, id: event.id }
  } catch (error) {
    return { recorded: false, error: (error as Error).message }
  }
}
