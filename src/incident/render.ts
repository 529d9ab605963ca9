/**
 * Human output of the incident and runbook commands: local times with their zone, one screen,
 * what to do next. Given redacted data (OpsCommand.render); text from people and payloads is made
 * printable (no escape sequences), and notes keep their lines.
 */
import { formatLocalTime, renderTable, type Palette } from '../core/index.js'
import { cleanText } from './alertmanager.js'
import type { ActionResult, IncidentListing, IncidentStatusReport, NoteResult, StartResult, UpdateResult } from './incidents.js'
import { formatSpan, type IncidentMetric } from './metrics.js'
import { formatProblem, REQUIRED_SECTIONS, type Runbook } from './runbook-format.js'
import type { LintReport, RunbookLibrary } from './runbooks.js'
import { severityDefinition } from './severity.js'
import type { AlertState, Incident, IncidentStatus } from './state.js'
import type { AlertReceiver, RequestReport } from './receiver.js'
import type { StepPlan, StepRunResult } from './step-runner.js'
import { alertInstance, describeEvent } from './timeline.js'

/** Text from the journal or a runbook, safe to print: one line, no escape sequences. */
const safe = (text: string, max = 300) => cleanText(text, max)

/** Text that keeps its lines (a note), each made safe, continuation lines indented. */
function safeLines(text: string, indent: string, max = 2000): string {
  return text
    .split(/\r\n|\r|\n/)
    .slice(0, 40)
    .map((line) => safe(line, max))
    .join(`\n${indent}`)
}

function statusColor(status: IncidentStatus, colors: Palette): string {
  if (status === 'resolved') return colors.green(status)
  if (status === 'cancelled') return colors.dim(status)
  if (status === 'mitigated') return colors.yellow(status)
  return colors.red(status)
}

function headline(incident: Incident, colors: Palette): string {
  return `${colors.bold(incident.id)}  ${colors.bold(incident.severity ?? safe(incident.severityText, 16))}  ${statusColor(incident.status, colors)}  ${safe(incident.title)}`
}

export function renderStart(result: StartResult, colors: Palette): string {
  const { incident } = result
  const lines: string[] = []
  if (result.outcome === 'opened') lines.push(`Declared ${headline(incident, colors)}`)
  else if (result.outcome === 'appended')
    lines.push(`Updated ${headline(incident, colors)}  ${colors.dim(`(${result.reason ?? 'alerts'})`)}`)
  else lines.push(`Already recorded on ${headline(incident, colors)}  ${colors.dim(`(${result.reason ?? 'unchanged'})`)}`)
  if (result.created) {
    lines.push(`  severity ${incident.severity ?? safe(incident.severityText, 16)} from ${safe(result.severitySource ?? '--sev', 400)}`)
    const facts = [
      incident.impactStartedAt ? `impact since ${formatLocalTime(incident.impactStartedAt)}` : '',
      incident.alertsStartedAt ? `first alert fired ${formatLocalTime(incident.alertsStartedAt)}` : '',
      incident.service ? `service ${safe(incident.service)}` : '',
    ].filter(Boolean)
    if (facts.length) lines.push(`  ${facts.join('; ')}`)
  }
  if (incident.roles.commander) lines.push(`  commander ${safe(incident.roles.commander)}`)
  if (incident.alerts.length) lines.push(...alertLines(incident, colors))
  if (result.created) {
    if (result.runbooks.length) {
      lines.push('', colors.bold('Runbooks that match:'))
      for (const match of result.runbooks)
        lines.push(
          `  ${colors.cyan(match.id.padEnd(26))} ${safe(match.title, 80)}  ${colors.dim(`(${match.reasons.map((reason) => safe(reason, 120)).join('; ')})`)}`,
        )
      lines.push(colors.dim(`  opsctl runbook show ${result.runbooks[0]!.id}`))
    } else lines.push('', colors.dim('No runbook matches; opsctl runbook list shows them all.'))
    lines.push('', colors.dim(`Next: opsctl incident ack · opsctl incident role commander NAME · opsctl incident log "..."`))
  }
  return lines.join('\n')
}

/** Each alert on a line (firing or resolved, since when), then its context: description, runbook, dashboard, source. */
function alertLines(incident: Incident, colors: Palette, detailed = false): string[] {
  const firing = incident.alerts.filter((alert) => alert.status === 'firing').length
  const lines = [
    `  alerts: ${firing} firing, ${incident.alerts.length - firing} resolved${incident.alertsResolvedAt ? colors.green(` · all resolved by ${formatLocalTime(incident.alertsResolvedAt)}`) : ''}${incident.alertsOmitted ? colors.yellow(` · ${incident.alertsOmitted} not recorded`) : ''}`,
  ]
  for (const alert of incident.alerts.slice(0, detailed ? 50 : 10)) {
    const instance = alertInstance(alert, incident.alerts)
    const state = alert.status === 'firing' ? colors.red('firing  ') : colors.green('resolved')
    const when = alert.startsAt
      ? `since ${formatLocalTime(alert.startsAt)}${alert.endsAt ? `, ended ${formatLocalTime(alert.endsAt)}` : ''}`
      : ''
    lines.push(`    ${state} ${colors.bold(safe(alert.name, 80))}${instance ? ` ${safe(instance, 120)}` : ''}  ${colors.dim(when)}`)
    if (alert.summary) lines.push(`             ${safe(alert.summary, 200)}`)
    if (detailed) lines.push(...alertContext(alert).map((line) => `             ${colors.dim(line)}`))
  }
  if (incident.alerts.length > (detailed ? 50 : 10))
    lines.push(colors.dim(`    … ${incident.alerts.length - (detailed ? 50 : 10)} more (--json has them all)`))
  return lines
}

function alertContext(alert: AlertState): string[] {
  const lines: string[] = []
  for (const [key, value] of Object.entries(alert.annotations ?? {})) if (key !== 'summary') lines.push(`${key}: ${safe(value, 300)}`)
  const labels = Object.entries(alert.labels ?? {}).filter(([key]) => key !== 'alertname')
  if (labels.length) lines.push(`labels: ${safe(labels.map(([key, value]) => `${key}=${value}`).join(' '), 300)}`)
  if (alert.generatorURL) lines.push(`source: ${safe(alert.generatorURL, 300)}`)
  lines.push(`fingerprint: ${safe(alert.fingerprint, 64)}`)
  return lines
}

export function renderReceiverStarted(receiver: Pick<AlertReceiver, 'url' | 'auth'>, colors: Palette): string {
  return [
    `Receiving Alertmanager notifications at ${colors.bold(receiver.url)} (${receiver.auth.join(' or ')} auth). Ctrl-C stops.`,
    colors.dim(
      `  webhook_config: { url: ${receiver.url}, http_config: { ${receiver.auth.includes('bearer') ? 'authorization: { credentials: ... }' : 'basic_auth: { username: ..., password: ... }'} } }`,
    ),
  ].join('\n')
}

/** One line per answered request, for stderr. */
export function renderRequest(report: RequestReport): string {
  return `${formatLocalTime(report.at)}  ${report.status} ${report.method} ${safe(report.path, 80)}  ${report.incident ? `${report.incident} ` : ''}${safe(report.reason, 300)}  (${report.durationMs} ms)`
}

export function renderUpdate(result: UpdateResult, colors: Palette): string {
  if (!result.written) return `${result.incident.id}: nothing changed (already so).`
  return [headline(result.incident, colors), ...result.changes.map((change) => `  ${safe(change, 400)}`)].join('\n')
}

export function renderAction(result: ActionResult, colors: Palette): string {
  if (!result.written) return result.message
  const { incident } = result
  const at =
    incident.status === 'acknowledged'
      ? incident.acknowledgedAt
      : incident.status === 'mitigated'
        ? incident.mitigatedAt
        : incident.status === 'resolved'
          ? incident.resolvedAt
          : incident.cancelledAt
  const next =
    incident.status === 'resolved'
      ? `Next: opsctl postmortem ${incident.id} --out postmortems/${incident.id}.md`
      : incident.status === 'mitigated'
        ? `Next: fix the cause, then opsctl incident resolve ${incident.id} -m "..."`
        : incident.status === 'acknowledged'
          ? 'Next: opsctl runbook list · opsctl incident log "..." · opsctl incident mitigate -m "..."'
          : ''
  return [`${headline(incident, colors)}${at ? `  ${colors.dim(`at ${formatLocalTime(at)}`)}` : ''}`, next ? colors.dim(next) : '']
    .filter(Boolean)
    .join('\n')
}

function actionItemTags(item: { owner?: string; priority?: string; type?: string }): string {
  return [item.priority, item.type, item.owner ? `owner ${safe(item.owner, 80)}` : ''].filter(Boolean).join(', ')
}

export function renderNote(result: NoteResult, colors: Palette): string {
  const lines = [`Logged on ${colors.bold(result.incident.id)} (${result.eventId}).`]
  for (const item of result.actionItems) {
    const tags = actionItemTags(item)
    lines.push(
      `  action item: ${safe(item.text)}${tags ? ` (${tags})` : ''}${item.owner ? '' : colors.dim(' (no owner yet: TODO(P2, prevent, name): ...)')}`,
    )
  }
  return lines.join('\n')
}

export function renderRole(result: { incident: Incident; role: string; person: string }, colors: Palette): string {
  return `${colors.bold(safe(result.person, 80))} is ${result.role} of ${colors.bold(result.incident.id)}.`
}

function metricLine(metric: IncidentMetric): string {
  return `${metric.label.padEnd(20)} ${metric.ms === undefined ? `— (${metric.note})` : `${formatSpan(metric.ms)}${metric.from ? `  from ${metric.from.point}` : ''}${metric.note ? `  (${metric.note})` : ''}`}`
}

export function renderStatus(report: IncidentStatusReport, colors: Palette): string {
  const { incident } = report
  const lines = [headline(incident, colors)]
  if (incident.severity) lines.push(colors.dim(`  ${incident.severity}: ${severityDefinition(incident.severity).definition}`))
  const facts: string[] = []
  if (incident.service) facts.push(`service ${safe(incident.service, 80)}`)
  for (const [role, person] of Object.entries(incident.roles)) facts.push(`${role} ${safe(person, 80)}`)
  if (facts.length) lines.push(`  ${facts.join(' · ')}`)
  if (incident.severityHistory.length > 1 || incident.severityReason) {
    const history = incident.severityHistory.map(
      (change, index) =>
        `${change.value}${index === 0 ? ` (${safe(change.reason ?? 'declared', 300)})` : ` at ${formatLocalTime(change.at)} by ${safe(change.by, 40)}${change.reason ? `: ${safe(change.reason, 200)}` : ''}`}`,
    )
    lines.push(`  severity: ${history.join(' → ')}`)
  }
  if (incident.alertmanagerUrl) lines.push(`  alertmanager: ${safe(incident.alertmanagerUrl, 200)}`)
  if (incident.alerts.length) lines.push(...alertLines(incident, colors, true))
  lines.push('')
  const stage = (label: string, at: string | undefined, extra = '') =>
    lines.push(`  ${label.padEnd(13)} ${at ? `${formatLocalTime(at)}${extra}` : colors.dim('—')}`)
  if (incident.impactStartedAt) stage('impact since', incident.impactStartedAt)
  else if (incident.alertsStartedAt)
    stage('first alert', incident.alertsStartedAt, colors.dim("  (the rule's startsAt, after its for: window)"))
  stage('declared', incident.openedAt, ` by ${safe(incident.openedBy, 80)}`)
  stage('acknowledged', incident.acknowledgedAt, incident.acknowledgedBy ? ` by ${safe(incident.acknowledgedBy, 80)}` : '')
  stage('mitigated', incident.mitigatedAt, incident.mitigation ? `: ${safe(incident.mitigation, 120)}` : '')
  if (incident.status === 'cancelled')
    stage('cancelled', incident.cancelledAt, incident.cancelReason ? `: ${safe(incident.cancelReason, 120)}` : '')
  else stage('resolved', incident.resolvedAt, incident.resolution ? `: ${safe(incident.resolution, 120)}` : '')
  lines.push('', colors.bold('Figures'), ...report.metrics.map((metric) => `  ${metricLine(metric)}`))
  lines.push('', colors.bold(`Timeline (${incident.events.length} events)`))
  for (const event of incident.events)
    lines.push(
      `  ${colors.dim(formatLocalTime(event.time, { date: false }))}  ${safe(event.actor, 24).padEnd(12)}  ${safeLines(describeEvent(event, incident.id), ' '.repeat(30))}`,
    )
  if (incident.actionItems.length) {
    lines.push('', colors.bold('Action items'))
    for (const item of incident.actionItems) {
      const tags = actionItemTags(item)
      lines.push(`  - ${safe(item.text)}${tags ? ` (${tags})` : ''}${item.owner ? '' : colors.dim(' (no owner)')}`)
    }
  }
  if (incident.runbooks.length)
    lines.push('', `Runbooks: ${incident.runbooks.join(', ')}  ${colors.dim(`(opsctl runbook show ${incident.runbooks[0]})`)}`)
  if (incident.responders.length) lines.push(`Responders: ${incident.responders.map((person) => safe(person, 80)).join(', ')}`)
  for (const anomaly of incident.anomalies) lines.push(colors.yellow(`  note: ${safe(anomaly)}`))
  return lines.join('\n')
}

export function renderIncidentList(listing: IncidentListing, colors: Palette): string {
  if (listing.incidents.length === 0) return 'No incidents in the journal.'
  const table = renderTable(listing.incidents, [
    { header: 'ID', value: (incident) => incident.id },
    { header: 'SEV', value: (incident) => incident.severity ?? safe(incident.severityText, 8) },
    { header: 'STATUS', value: (incident) => statusColor(incident.status, colors) },
    { header: 'DECLARED', value: (incident) => formatLocalTime(incident.openedAt) },
    { header: 'SERVICE', value: (incident) => safe(incident.service ?? '', 24) },
    { header: 'TITLE', value: (incident) => safe(incident.title, 60) },
  ])
  const more =
    listing.total > listing.incidents.length
      ? `\n${colors.dim(`${listing.total - listing.incidents.length} more; --limit to see them`)}`
      : ''
  return table + more
}

// --- runbooks --------------------------------------------------------------------------------

export function renderRunbookList(library: RunbookLibrary, colors: Palette): string {
  if (library.runbooks.length === 0) return 'No runbooks.'
  const table = renderTable(library.runbooks, [
    { header: 'ID', value: (runbook) => runbook.id },
    { header: 'SEV', value: (runbook) => runbook.severity },
    { header: 'STEPS', value: (runbook) => runbook.steps.length },
    { header: 'OWNER', value: (runbook) => safe(runbook.owner, 24) },
    { header: 'TITLE', value: (runbook) => safe(runbook.title, 70) },
  ])
  const overridden = library.overridden.map((entry) => colors.dim(`${entry.id}: ${entry.by} overrides ${entry.file}`))
  return [table, ...overridden].join('\n')
}

export function renderRunbook(runbook: Runbook, colors: Palette): string {
  const lines = [
    `${colors.bold(runbook.id)}  ${safe(runbook.title)}`,
    colors.dim(`  ${runbook.file} · severity hint ${runbook.severity} · owner ${safe(runbook.owner, 80)}`),
    `  symptoms: ${runbook.symptoms.map((symptom) => safe(symptom, 80)).join('; ')}`,
  ]
  if (runbook.alerts.length) lines.push(`  alerts: ${runbook.alerts.map((alert) => safe(alert, 80)).join(', ')}`)
  if (runbook.services?.length) lines.push(`  services: ${runbook.services.join(', ')}`)
  const stepAt = new Map(runbook.steps.map((step) => [step.line, step]))
  lines.push('')
  let fence: { marker: string; step: boolean } | undefined
  runbook.body.split('\n').forEach((raw, index) => {
    const line = raw.replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, '\uFFFD')
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (!fence && marker) {
      const step = stepAt.get(runbook.bodyLine + index)
      fence = { marker, step: Boolean(step) }
      if (step)
        lines.push(
          colors.cyan(`  ▶ step ${step.number}: ${step.name}`) + colors.dim(`   opsctl runbook run ${runbook.id} --step ${step.name}`),
        )
      else lines.push(line)
      return
    }
    if (fence && marker && marker[0] === fence.marker[0] && marker.length >= fence.marker.length && line.trim() === marker) {
      if (!fence.step) lines.push(line)
      fence = undefined
      return
    }
    if (fence?.step) lines.push(`    ${colors.bold(line)}`)
    else if (!fence && /^#{1,3}\s/.test(line)) lines.push(colors.bold(line))
    else lines.push(line)
  })
  return lines.join('\n').replace(/\n{3,}/g, '\n\n')
}

export function renderLintReport(report: LintReport, colors: Palette): string {
  const lines: string[] = []
  for (const file of report.files) {
    for (const problem of file.problems)
      lines.push(problem.level === 'error' ? colors.red(formatProblem(problem)) : colors.yellow(formatProblem(problem)))
  }
  const clean = report.files.filter((file) => file.problems.every((problem) => problem.level !== 'error')).length
  lines.push(
    `${report.files.length} runbook${report.files.length === 1 ? '' : 's'} checked: ${clean} ok, ${report.errors} error${report.errors === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}.`,
  )
  if (report.errors === 0) lines.push(colors.dim(`Required sections: ${REQUIRED_SECTIONS.map((section) => section.title).join(', ')}.`))
  return lines.join('\n')
}

export function renderStepPlan(plan: StepPlan, colors: Palette): string {
  const { runbook, step } = plan
  const lines = [
    `${colors.bold(`${runbook.id} · step ${step.number}: ${step.name}`)}${step.sectionTitle ? colors.dim(`  (${safe(step.sectionTitle, 60)})`) : ''}`,
  ]
  if (step.description) lines.push(`  ${safe(step.description, 200)}`)
  lines.push(colors.dim(`  ${plan.shell.join(' ')} <<'STEP'   (in ${plan.cwd})`))
  for (const line of step.command.split('\n')) lines.push(`  ${colors.bold(line)}`)
  lines.push(colors.dim('  STEP'))
  lines.push(
    plan.incident
      ? colors.dim(`  Recorded in ${plan.incident.id} (${safe(plan.incident.title, 80)}).`)
      : colors.dim('  No open incident: recorded in the journal without one.'),
  )
  return lines.join('\n')
}

export function renderStepResult(result: StepRunResult, colors: Palette): string {
  const status = result.status === 'done' ? colors.green('done') : colors.red(result.status)
  return `${result.runbook} step ${result.step.number} (${result.step.name}): ${status}, exit ${result.exitCode ?? `none (${result.signal ?? 'killed'})`}, ${formatSpan(result.durationMs)}${result.incident ? `; recorded in ${result.incident}` : ''} (${result.eventId}).`
}
