/** Rollouts for people: the state of one, the running ones, the answer to an action, the history. Pure. */
import { formatDuration, formatLocalTime, renderTable, type Palette } from '../core/index.js'
import type { RolloutRun } from './controller.js'
import type { ActionResult, HistoryEntry, RolloutView, StatusReport } from './manage.js'
import { describeSteps } from './plan.js'
import { describeStatus, type Rollout, type RolloutStatus, type VerdictDigest } from './rollout.js'

const ms = (value: number | undefined) => (value === undefined ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(1))

function statusColor(status: RolloutStatus, colors: Palette): (text: string) => string {
  if (status === 'promoted' || status === 'completed') return colors.green
  if (status === 'rolled-back' || status === 'aborted' || status === 'failed' || status === 'halted') return colors.red
  if (status === 'paused' || status === 'rolling-back') return colors.yellow
  return colors.cyan
}

function position(rollout: Rollout): string {
  switch (rollout.strategy) {
    case 'canary':
    case 'strangler': {
      const step = rollout.steps[rollout.stepIndex]
      return `${rollout.weight}% to ${rollout.canary.name}${step ? ` (step ${step.step}/${rollout.steps.length})` : ''}`
    }
    case 'bluegreen':
      return rollout.phase === 'checking'
        ? `checking ${rollout.preview.name}`
        : rollout.phase === 'switched'
          ? `on ${rollout.preview.name}, ${rollout.active.name} kept until ${formatLocalTime(rollout.keepUntil ?? rollout.updatedAt)}`
          : `on ${rollout.preview.name}, ${rollout.active.name} released`
    case 'rolling': {
      const replaced = rollout.instances.filter((instance) => instance.status === 'replaced').length
      return `${replaced}/${rollout.instances.length} replaced${rollout.batch.length ? `, now ${rollout.batch.join(', ')}` : ''}`
    }
  }
}

function verdictTable(verdicts: readonly VerdictDigest[], colors: Palette): string {
  return renderTable(
    [...verdicts],
    [
      { header: 'time', value: (row) => formatLocalTime(row.at, { date: false }) },
      { header: 'step', value: (row) => row.step },
      { header: 'weight', value: (row) => `${row.weight}%`, align: 'right' },
      {
        header: 'verdict',
        value: (row) =>
          row.status === 'pass' ? colors.green('pass') : row.status === 'fail' ? colors.red('fail') : colors.yellow('inconclusive'),
      },
      { header: 'canary req/err', value: (row) => `${row.canary.requests}/${row.canary.errors}`, align: 'right' },
      { header: 'stable req/err', value: (row) => `${row.stable.requests}/${row.stable.errors}`, align: 'right' },
      { header: 'p50 canary/stable ms', value: (row) => `${ms(row.canary.p50)} / ${ms(row.stable.p50)}`, align: 'right' },
      { header: 'p99 canary/stable ms', value: (row) => `${ms(row.canary.p99)} / ${ms(row.stable.p99)}`, align: 'right' },
    ],
  )
}

export function renderRollout(view: RolloutView, colors: Palette): string {
  const rollout = view.rollout
  const color = statusColor(rollout.status, colors)
  const lines = [
    `${colors.bold(rollout.id)}  ${rollout.strategy} of ${rollout.service}  ${color(describeStatus(rollout))}`,
    `  ${colors.dim('now')}      ${position(rollout)}`,
  ]
  const field = (label: string, value: string) => lines.push(`  ${colors.dim(label.padEnd(8))} ${value}`)
  switch (rollout.strategy) {
    case 'canary':
    case 'strangler':
      field('stable', `${rollout.stable.name} (${rollout.stable.address})`)
      field('canary', `${rollout.canary.name} (${rollout.canary.address})`)
      if (rollout.route) field('route', `${rollout.route} → pool ${rollout.pool}`)
      field('steps', `${describeSteps(rollout.steps, undefined)}, analysed every ${formatDuration(rollout.intervalMs)}`)
      field(
        'judge',
        `${rollout.analysis.metrics.map((metric) => `${metric.name}${metric.critical ? '*' : ''}`).join(', ') || '-'}; thresholds: ${rollout.analysis.thresholds.map((rule) => rule.name).join(', ') || '-'}; min ${rollout.analysis.minSamples} samples`,
      )
      break
    case 'bluegreen':
      field('active', `${rollout.active.name} (${rollout.active.address})`)
      field('preview', `${rollout.preview.name} (${rollout.preview.address})`)
      for (const check of rollout.checks)
        field('check', `${check.name}: ${check.status}${check.reasons.length ? ` (${check.reasons.join('; ')})` : ''}`)
      break
    case 'rolling':
      field('command', rollout.command)
      for (const instance of rollout.instances) field('instance', `${instance.name} (${instance.address}): ${instance.status}`)
      break
  }
  field('started', formatLocalTime(rollout.createdAt))
  if (view.controller)
    field(
      'control',
      `process ${view.controller.pid} on ${view.controller.host}${view.controller.alive ? '' : colors.yellow(' (gone: resume to take over)')}`,
    )
  if (rollout.outcome) {
    field('outcome', `${rollout.outcome.status} at ${formatLocalTime(rollout.outcome.at)}: ${rollout.outcome.reason}`)
    if (rollout.outcome.lostRequests !== undefined) field('lost', `${rollout.outcome.lostRequests} request(s) (in flight on the way out)`)
    if (rollout.outcome.flagKilled) field('flag', `${rollout.outcome.flagKilled} killed`)
  }
  const verdicts = 'verdicts' in rollout ? rollout.verdicts : []
  if (verdicts.length > 0) lines.push('', verdictTable(verdicts.slice(-10), colors))
  return lines.join('\n')
}

export function renderStatus(report: StatusReport, colors: Palette): string {
  if (report.rollouts.length === 0) return report.empty ?? 'No rollout.'
  return report.rollouts.map((view) => renderRollout(view, colors)).join('\n\n')
}

/** The end of a controller's run: the rollout, and what to do next. */
export function renderRun(run: RolloutRun, colors: Palette): string {
  const text = renderRollout({ rollout: run.rollout }, colors)
  if (run.instructed) return `${text}\n${colors.dim('(asked the running controller)')}`
  if (run.interrupted) return `${text}\n${colors.dim(`Controller stopped; the rollout waits: opsctl deploy resume ${run.rollout.id}`)}`
  return text
}

export function renderAction(result: ActionResult, colors: Palette): string {
  return `${result.message}${result.via === 'controller' ? colors.dim(' (through its controller)') : ''}\n\n${renderRollout({ rollout: result.rollout }, colors)}`
}

export function renderHistory(entries: readonly HistoryEntry[], colors: Palette): string {
  if (entries.length === 0) return 'No rollouts in the journal.'
  return renderTable(
    [...entries],
    [
      { header: 'rollout', value: (entry) => entry.rollout },
      { header: 'strategy', value: (entry) => entry.strategy ?? '-' },
      { header: 'started', value: (entry) => formatLocalTime(entry.startedAt) },
      { header: 'took', value: (entry) => (entry.endedAt ? formatDuration(Date.parse(entry.endedAt) - Date.parse(entry.startedAt)) : '-') },
      {
        header: 'outcome',
        value: (entry) =>
          entry.outcome === 'promoted' || entry.outcome === 'completed'
            ? colors.green(entry.outcome)
            : entry.outcome === 'running'
              ? colors.cyan(entry.outcome)
              : colors.red(entry.outcome),
      },
      { header: 'max weight', value: (entry) => (entry.maxWeight === undefined ? '-' : `${entry.maxWeight}%`), align: 'right' },
      {
        header: 'windows p/f/i',
        value: (entry) => `${entry.verdicts.pass}/${entry.verdicts.fail}/${entry.verdicts.inconclusive}`,
        align: 'right',
      },
      { header: 'reason', value: (entry) => (entry.reason ? entry.reason.slice(0, 100) : '') },
    ],
  )
}
