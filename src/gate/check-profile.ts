/**
 * A flame-graph growth check: the service profiled under load (the profile module starts its own
 * instance with V8's CPU profiler), compared function by function with the stored baseline
 * profile: no function's self-time share may grow by more than maxGrowth points. The
 * differential flame graph is written as evidence. Glue over the profile module.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { badInput, parseDuration, parsePercent, verdict, type Config } from '../core/index.js'
import { diffProfileFiles, isNodeCommand, profileTarget } from '../profile/index.js'
import { profileBaselinePath } from './baseline.js'
import type { CheckContext } from './context.js'
import { displayPath, sourceLocation, type CheckResult, type Evidence } from './model.js'

export type ProfileCheck = Extract<Config['gate']['checks'][string], { type: 'profile' }>

export async function runProfileCheck(name: string, check: ProfileCheck, context: CheckContext): Promise<Omit<CheckResult, 'durationMs'>> {
  const key = `gate.checks.${name}`
  const command = check.command ?? (Array.isArray(context.service?.command) ? context.service.command : undefined)
  if (!command || !isNodeCommand(command)) {
    throw badInput(
      `${key}: a profile check needs a node command (command: [node, ...]) or a gate.service.command list that starts with node`,
      'The CPU profiler is V8’s: profile checks run node services.',
    )
  }
  if (!context.serviceUrl) throw badInput(`${key}: there is no service URL to load`, 'Set gate.service (readyUrl or url).')
  const maxGrowth = parsePercent(check.maxGrowth, `${key}.maxGrowth`)
  const durationMs = parseDuration(check.duration, `${key}.duration`)
  const outDir = join(context.outDir, `${name}.profile`)
  const load = check.scenario
    ? { scenarioFile: resolve(context.rootDir, check.scenario), scenarioTarget: context.serviceUrl }
    : { url: `${context.serviceUrl.replace(/\/$/, '')}${check.path ?? '/'}` }
  const run = await profileTarget({
    target: { command, env: { ...context.service?.env, ...check.env }, cwd: context.service?.cwd ?? context.rootDir, label: name },
    load,
    durationMs,
    connections: check.connections,
    ...(check.rate !== undefined ? { rate: check.rate } : {}),
    outDir,
    renderer: 'opsctl',
    ...(context.service ? { startTimeoutMs: context.service.startTimeoutMs } : {}),
    note: context.note,
    signal: context.signal,
  })
  const folded = run.files.folded
  if (!folded) throw new Error(`the profile of ${name} has no folded stacks`)
  const top = run.summary?.topSelf[0]
  const measured = `${run.load?.requests ?? 0} requests profiled; top self time ${top ? `${top.name} ${(top.selfShare * 100).toFixed(1)}%` : 'none'}`
  const budget = `no function's self share grows by more than ${(maxGrowth * 100).toFixed(1)} points`
  const baselinePath = profileBaselinePath(context.baselineDir, name)
  const files = [
    ...(run.files.flamegraph ? [{ label: 'flame graph', path: run.files.flamegraph }] : []),
    { label: 'folded stacks', path: folded },
  ]
  if (context.updateBaseline) {
    mkdirSync(dirname(baselinePath), { recursive: true })
    copyFileSync(folded, baselinePath)
    return {
      name,
      type: 'profile',
      status: 'pass',
      verdict: verdict('pass'),
      measured,
      budget,
      evidence: [],
      files,
      baseline: { path: baselinePath, state: 'updated' },
    }
  }
  if (!existsSync(baselinePath)) {
    const outcome = verdict('inconclusive', [`${name}: no baseline profile at ${baselinePath}`], {
      hint: 'Take it with opsctl gate --update-baseline and commit it.',
    })
    return {
      name,
      type: 'profile',
      status: outcome.status,
      verdict: outcome,
      measured,
      budget,
      evidence: [],
      files,
      baseline: { path: baselinePath, state: 'missing' },
    }
  }
  const diff = diffProfileFiles({
    before: baselinePath,
    after: folded,
    out: join(context.outDir, `${name}.flamegraph-diff.html`),
    maxGrowth,
    top: 10,
  })
  const exceeded = diff.gate?.exceeded ?? []
  const evidence: Evidence[] = exceeded.map((change) => {
    const where = sourceLocation(change.location)
    return {
      message: `${change.name} (${change.location}): self share ${(change.before.selfShare * 100).toFixed(1)}% → ${(change.after.selfShare * 100).toFixed(1)}% (+${(change.selfDelta * 100).toFixed(1)} points)`,
      ...(where ? where : {}),
    }
  })
  const outcome =
    exceeded.length > 0
      ? verdict(
          'fail',
          exceeded.map(
            (change) =>
              `${name}: ${change.name} grew by ${(change.selfDelta * 100).toFixed(1)} points of self time (budget ${(maxGrowth * 100).toFixed(1)})`,
          ),
          {
            hint: `Open the differential flame graph ${displayPath(diff.html)}; ${exceeded[0]!.name} at ${exceeded[0]!.location} is where the time went.`,
          },
        )
      : verdict('pass')
  return {
    name,
    type: 'profile',
    status: outcome.status,
    verdict: outcome,
    measured,
    budget,
    evidence,
    files: [{ label: 'flame-graph diff', path: diff.html }, ...files],
    baseline: { path: baselinePath, state: 'compared' },
    details: { changes: diff.changes, top: run.summary?.topSelf.slice(0, 5) },
  }
}
