/** Human output of the incident and runbook commands: local times, one screen, what to do next. */
import { renderTable, type Palette } from '../core/index.js'
import { summarizeEventData, type JournalEvent } from '../journal/index.js'
import { cleanText } from './alertmanager.js'
import type { ActionResult, IncidentListing, IncidentStatusReport, NoteResult, StartResult } from './incidents.js'
import { formatSpan, type IncidentMetric } from './metrics.js'
import { isIncidentKind } from './postmortem.js'
import { formatProblem, REQUIRED_SECTIONS, type Runbook } from './runbook-format.js'
import type { LintReport, RunbookLibrary } from './runbooks.js'
import { severityDefinition } from './severity.js'
import type { Incident, IncidentStatus } from './state.js'
import type { StepPlan, StepRunResult } from './step-runner.js'

export function localTime(iso: string, withDate = true): string {
  const date = new Date(iso)
  const pad = (value: number) => String(value).padStart(2, '0')
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  return withDate ? `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}` : time
}

/** Text from the journal or a runbook, safe to print: one line, no escape sequences. */
const safe = (text: string, max = 300) => cleanText(text, max)

function statusColor(status: IncidentStatus, colors: Palette): string {
  if (status === 'resolved') return colors.green(status)
  if (status === 'cancelled') return colors.dim(status)
  if (status === 'mitigated') return colors.yellow(status)
  return colors.red(status)
}

function headline(incident: Incident, colors: Palette): string {
  return `${colors.bold(incident.id)}  ${colors.bold(incident.severity ?? incident.severityText)}  ${statusColor(incident.status, colors)}  ${safe(incident.title)}`
}

export function renderStart(result: StartResult, colors: Palette): string {
  const { incident } = result
  const lines = [
    result.created ? `Declared ${headline(incident, colors)}` : `Already open for this alert group: ${headline(incident, colors)}`,
    `  severity from ${result.severitySource}${incident.impactStartedAt ? `; impact since ${localTime(incident.impactStartedAt)}` : ''}${incident.service ? `; service ${safe(incident.service)}` : ''}`,
  ]
  if (incident.roles.commander) lines.push(`  commander ${safe(incident.roles.commander)}`)
  if (result.alerts?.length) lines.push(`  alerts: ${[...new Set(result.alerts.map((alert) => safe(alert.name, 80)))].join(', ')}`)
  if (result.runbooks.length) {
    lines.push('', colors.bold('Runbooks that match:'))
    for (const match of result.runbooks) lines.push(`  ${colors.cyan(match.id.padEnd(26))} ${safe(match.title, 80)}  ${colors.dim(`(${match.reasons.map((reason) => safe(reason, 120)).join('; ')})`)}`)
    lines.push(colors.dim(`  opsctl runbook show ${result.runbooks[0]!.id}`))
  } else lines.push('', colors.dim('No runbook matches; opsctl runbook list shows them all.'))
  if (result.created) lines.push('', colors.dim(`Next: opsctl incident ack · opsctl incident role commander NAME · opsctl incident log "..."`))
  return lines.join('\n')
}

export function renderAction(result: ActionResult, colors: Palette): string {
  if (!result.written) return result.message
  const { incident } = result
  const at = incident.status === 'acknowledged' ? incident.acknowledgedAt : incident.status === 'mitigated' ? incident.mitigatedAt : incident.status === 'resolved' ? incident.resolvedAt : incident.cancelledAt
  const next =
    incident.status === 'resolved'
      ? `Next: opsctl postmortem ${incident.id} --out postmortems/${incident.id}.md`
      : incident.status === 'mitigated'
        ? `Next: fix the cause, then opsctl incident resolve ${incident.id} -m "..."`
        : incident.status === 'acknowledged'
          ? 'Next: opsctl runbook list · opsctl incident log "..." · opsctl incident mitigate -m "..."'
          : ''
  return [`${headline(incident, colors)}${at ? `  ${colors.dim(`at ${localTime(at)}`)}` : ''}`, next ? colors.dim(next) : ''].filter(Boolean).join('\n')
}

export function renderNote(result: NoteResult, colors: Palette): string {
  const lines = [`Logged on ${colors.bold(result.incident.id)} (${result.eventId}).`]
  for (const item of result.actionItems) lines.push(`  action item: ${safe(item.text)}${item.owner ? ` (owner ${safe(item.owner, 80)})` : colors.dim(' (no owner yet: TODO(name): ...)')}`)
  return lines.join('\n')
}

export function renderRole(result: { incident: Incident; role: string; person: string }, colors: Palette): string {
  return `${colors.bold(safe(result.person, 80))} is ${result.role} of ${colors.bold(result.incident.id)}.`
}

function metricLine(metric: IncidentMetric): string {
  return `${metric.label.padEnd(20)} ${metric.ms === undefined ? `— (${metric.note})` : `${formatSpan(metric.ms)}${metric.note ? `  (${metric.note})` : ''}`}`
}

export function renderStatus(report: IncidentStatusReport, colors: Palette): string {
  const { incident } = report
  const lines = [headline(incident, colors)]
  if (incident.severity) lines.push(colors.dim(`  ${incident.severity}: ${severityDefinition(incident.severity).definition}`))
  const facts: string[] = []
  if (incident.service) facts.push(`service ${safe(incident.service, 80)}`)
  for (const [role, person] of Object.entries(incident.roles)) facts.push(`${role} ${safe(person, 80)}`)
  if (facts.length) lines.push(`  ${facts.join(' · ')}`)
  if (incident.alerts.length) lines.push(`  alerts: ${[...new Set(incident.alerts.map((alert) => safe(alert.name, 80)))].join(', ')}`)
  lines.push('')
  const stage = (label: string, at: string | undefined, extra = '') => lines.push(`  ${label.padEnd(13)} ${at ? `${localTime(at)}${extra}` : colors.dim('—')}`)
  if (incident.impactStartedAt) stage('impact since', incident.impactStartedAt)
  stage('declared', incident.openedAt, ` by ${safe(incident.openedBy, 80)}`)
  stage('acknowledged', incident.acknowledgedAt, incident.acknowledgedBy ? ` by ${safe(incident.acknowledgedBy, 80)}` : '')
  stage('mitigated', incident.mitigatedAt, incident.mitigation ? `: ${safe(incident.mitigation, 120)}` : '')
  if (incident.status === 'cancelled') stage('cancelled', incident.cancelledAt, incident.cancelReason ? `: ${safe(incident.cancelReason, 120)}` : '')
  else stage('resolved', incident.resolvedAt, incident.resolution ? `: ${safe(incident.resolution, 120)}` : '')
  lines.push('', colors.bold('Figures'), ...report.metrics.map((metric) => `  ${metricLine(metric)}`))
  lines.push('', colors.bold(`Timeline (${incident.events.length} events)`))
  for (const event of incident.events) lines.push(`  ${colors.dim(localTime(event.time, false))}  ${safe(event.actor, 24).padEnd(12)}  ${timelineText(event)}`)
  if (incident.actionItems.length) {
    lines.push('', colors.bold('Action items'))
    for (const item of incident.actionItems) lines.push(`  - ${safe(item.text)}${item.owner ? ` (${safe(item.owner, 80)})` : colors.dim(' (no owner)')}`)
  }
  if (incident.runbooks.length) lines.push('', `Runbooks: ${incident.runbooks.join(', ')}  ${colors.dim(`(opsctl runbook show ${incident.runbooks[0]})`)}`)
  if (incident.responders.length) lines.push(`Responders: ${incident.responders.map((person) => safe(person, 80)).join(', ')}`)
  for (const anomaly of incident.anomalies) lines.push(colors.yellow(`  note: ${safe(anomaly)}`))
  return lines.join('\n')
}

/** The journal's wording of the incident's own events, each text in it made safe to print; other linked events by kind. */
function timelineText(event: JournalEvent): string {
  if (!isIncidentKind(event.kind)) return event.kind
  const printable = Object.fromEntries(Object.entries(event.data).map(([key, value]) => [key, typeof value === 'string' ? safe(value, 160) : value]))
  return summarizeEventData(event.kind, printable) ?? event.kind
}

export function renderIncidentList(listing: IncidentListing, colors: Palette): string {
  if (listing.incidents.length === 0) return 'No incidents in the journal.'
  const table = renderTable(listing.incidents, [
    { header: 'ID', value: (incident) => incident.id },
    { header: 'SEV', value: (incident) => incident.severity ?? safe(incident.severityText, 8) },
    { header: 'STATUS', value: (incident) => statusColor(incident.status, colors) },
    { header: 'DECLARED', value: (incident) => localTime(incident.openedAt) },
    { header: 'SERVICE', value: (incident) => safe(incident.service ?? '', 24) },
    { header: 'TITLE', value: (incident) => safe(incident.title, 60) },
  ])
  const more = listing.total > listing.incidents.length ? `\n${colors.dim(`${listing.total - listing.incidents.length} more; --limit to see them`)}` : ''
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
      if (step) lines.push(colors.cyan(`  ▶ step ${step.number}: ${step.name}`) + colors.dim(`   opsctl runbook run ${runbook.id} --step ${step.name}`))
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
    for (const problem of file.problems) lines.push(problem.level === 'error' ? colors.red(formatProblem(problem)) : colors.yellow(formatProblem(problem)))
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
  lines.push(plan.incident ? colors.dim(`  Recorded in ${plan.incident.id} (${safe(plan.incident.title, 80)}).`) : colors.dim('  No open incident: recorded in the journal without one.'))
  return lines.join('\n')
}

export function renderStepResult(result: StepRunResult, colors: Palette): string {
  const status = result.status === 'done' ? colors.green('done') : colors.red(result.status)
  return `${result.runbook} step ${result.step.number} (${result.step.name}): ${status}, exit ${result.exitCode ?? `none (${result.signal ?? 'killed'})`}, ${formatSpan(result.durationMs)}${result.incident ? `; recorded in ${result.incident}` : ''} (${result.eventId}).`
}
