/**
 * An N+1 budget: at most `max` distinct patterns outside the allow-list, found by the nplusone
 * module's detector in the live hook's query log of the service the gate started (its traffic is
 * the gate's own: the load checks and this check's `requests`), or in PostgreSQL logs or OTLP
 * traces the CI job produced. Glue.
 */
import { resolve } from 'node:path'
import { badInput, isOpsError, verdict, type Config } from '../core/index.js'
import { findNPlusOne, nplusoneOptions, type NPlusOneReport, type QuerySources } from '../nplusone/index.js'
import type { CheckContext } from './context.js'
import { sourceLocation, type CheckResult, type Evidence } from './model.js'

const SERVICE_OUTPUT_LINES = 10

export type NPlusOneCheck = Extract<Config['gate']['checks'][string], { type: 'nplusone' }>

export function usesLiveHook(check: NPlusOneCheck): boolean {
  return !check.log?.length && !check.otlp?.length
}

/** The check's own traffic, while the service runs: each path once, answers read and dropped. */
export async function sendNPlusOneTraffic(name: string, check: NPlusOneCheck, context: CheckContext): Promise<void> {
  if (check.requests.length === 0) return
  if (!context.serviceUrl)
    throw badInput(`gate.checks.${name}.requests: there is no service URL to send them to`, 'Configure gate.service.')
  for (const path of check.requests) {
    if (context.signal.aborted) return
    try {
      const response = await fetch(new URL(path, context.serviceUrl), {
        signal: AbortSignal.any([context.signal, AbortSignal.timeout(30_000)]),
      })
      await response.arrayBuffer()
      if (response.status >= 400) context.note(`${name}: GET ${path} answered ${response.status}`)
    } catch (error) {
      if (context.signal.aborted) return
      context.note(`${name}: GET ${path} failed: ${(error as Error).message}`)
    }
  }
}

export async function runNPlusOneCheck(
  name: string,
  check: NPlusOneCheck,
  context: CheckContext,
): Promise<Omit<CheckResult, 'durationMs'>> {
  const live = usesLiveHook(check)
  if (live && !context.queryLog) {
    throw badInput(
      `gate.checks.${name}: the live hook needs the service the gate starts (gate.service), or give log: or otlp: files`,
      'Configure gate.service with the command that starts the service (it records its queries to $OPSCTL_QUERY_LOG).',
    )
  }
  const sources: QuerySources = live
    ? { serviceLogs: [context.queryLog!] }
    : {
        logs: (check.log ?? []).map((file) => resolve(context.rootDir, file)),
        otlp: (check.otlp ?? []).map((file) => resolve(context.rootDir, file)),
      }
  const options = nplusoneOptions({ ignore: check.allow }, context.settings.config.nplusone)
  const budget = `at most ${check.max} N+1 pattern${check.max === 1 ? '' : 's'}${check.allow.length ? ` outside ${check.allow.length} allowed` : ''}`
  const source = live ? 'live hook' : [...(check.log ?? []), ...(check.otlp ?? [])].join(', ')
  let report: NPlusOneReport
  try {
    report = await findNPlusOne(sources, { ...options, cwd: context.rootDir })
  } catch (error) {
    // no statement at all is not "no N+1": the check saw nothing to judge
    if (isOpsError(error) && error.exit === 2 && /No SQL statements|No such file|does not exist|No input/i.test(error.message)) {
      return {
        name,
        type: 'nplusone',
        status: 'inconclusive',
        verdict: verdict('inconclusive', [`${name}: ${error.message}`], { hint: error.hint ?? 'Send traffic that reaches the database.' }),
        measured: `no statements (${source})`,
        budget,
        evidence: [{ message: error.message }, ...serviceOutputEvidence(live, context)],
        files: [],
      }
    }
    throw error
  }
  const patterns = report.patterns
  const evidence: Evidence[] = patterns.map((pattern) => {
    const where = sourceLocation(pattern.callSite)
    const route = pattern.worstUnit.label ?? pattern.where[0]?.label
    return {
      message: `N+1 ${pattern.fingerprint}: ${pattern.sql} — ${pattern.executions} executions in ${pattern.units} unit${pattern.units === 1 ? '' : 's'} (up to ${pattern.maxPerUnit} in one${route ? `, ${route}` : ''})${pattern.callSite ? ` at ${pattern.callSite}` : ''}. ${pattern.fix.summary}`,
      ...(where ? { file: where.file, line: where.line } : {}),
    }
  })
  const over = patterns.length > check.max
  const outcome = over
    ? verdict('fail', [`${name}: ${patterns.length} N+1 pattern${patterns.length === 1 ? '' : 's'}, budget ${check.max}`], {
        hint: `Batch the repeated statement (${patterns[0]!.fix.summary.replace(/\.$/, '')}), or allow its fingerprint in gate.checks.${name}.allow.`,
      })
    : verdict('pass')
  return {
    name,
    type: 'nplusone',
    status: outcome.status,
    verdict: outcome,
    measured: `${patterns.length} N+1 pattern${patterns.length === 1 ? '' : 's'} in ${report.totals.executions} statements (${source})`,
    budget,
    evidence: over ? evidence : [],
    files: [],
    details: { patterns, totals: report.totals, warnings: report.warnings },
  }
}

/** An empty live query log is the service's to explain (its hook, its writer, its database): its last words. */
function serviceOutputEvidence(live: boolean, context: CheckContext): Evidence[] {
  const lines = live ? (context.serviceOutput ?? []).slice(-SERVICE_OUTPUT_LINES) : []
  return lines.map((line) => ({ message: `service output: ${line}` }))
}
