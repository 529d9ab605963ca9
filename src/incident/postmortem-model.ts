/**
 * The blameless post-mortem as data, built from the incident's replayed state and the journal
 * events in its window. Pure: facts come from events and timestamps; everything else is a clearly
 * marked prompt for the team ("To be written: ..."), never invented. Sections follow the Google
 * SRE book's template and PagerDuty's. Renderers (postmortem-render.ts) only format this model.
 */
import type { JournalEvent } from '../journal/index.js'
import { computeMetrics, formatSpan, impactOrigin, type IncidentMetric } from './metrics.js'
import { severityDefinition, type SeverityDefinition } from './severity.js'
import { incidentKeyOf, type ActionItem, type AlertState, type Change, type Incident, type RunbookStepRecord } from './state.js'
import { MITIGATING, SIGNALS, alertInstance, describeEvent, highlightOf, type Highlight } from './timeline.js'

export const POSTMORTEM_SCHEMA = 'opsctl.postmortem/1'

export interface TimelineEntry {
  at: string
  eventId: string
  kind: string
  actor: string
  subject: string
  summary: string
  /** From the start of impact (the alert's startsAt, or the declaration, when none was given); negative before it. */
  offsetMs: number
  /** `derived`: a point recorded inside another event (the impact start, an alert's startsAt or endsAt). */
  source: 'incident' | 'journal' | 'derived'
  /** rollback, canary failed, flag kill, gate failed, deploy, flag change. */
  highlight?: Highlight
}

export interface Responder {
  person: string
  roles: string[]
  firstAt?: string
  events: number
}

export interface PostmortemSection {
  /** A sentence that introduces the facts (rendered before them, not as one of them). */
  intro?: string
  /** What the journal shows. */
  facts: string[]
  /** What only the team can write; absent when the facts are the whole section. */
  toBeWritten?: string
}

export interface Postmortem {
  schema: typeof POSTMORTEM_SCHEMA
  generatedAt: string
  incident: {
    id: string
    title: string
    severity: string
    /** Why the declared severity (--sev, or the label value that gave it). */
    severityReason?: string
    service?: string
    status: Incident['status']
    openedAt: string
    openedBy: string
    impactStartedAt?: string
    alertsStartedAt?: string
    alertsResolvedAt?: string
    acknowledgedAt?: string
    acknowledgedBy?: string
    mitigatedAt?: string
    mitigatedAutomatically?: boolean
    resolvedAt?: string
    cancelledAt?: string
    source: string
    alerts: AlertState[]
    alertsOmitted: number
    alertmanagerUrl?: string
    runbooks: string[]
  }
  /** The severity, title and impact start as declared and as changed since, each with who, when and why. */
  history: { severity: Change[]; title: Change[]; impactStart: Change[] }
  window: { from: string; to: string; leadInMs: number }
  severity?: SeverityDefinition
  metrics: IncidentMetric[]
  responders: Responder[]
  sections: {
    summary: PostmortemSection
    impact: PostmortemSection
    contributingFactors: PostmortemSection
    trigger: PostmortemSection
    detection: PostmortemSection
    resolution: PostmortemSection
    wentWell: PostmortemSection
    wentBadly: PostmortemSection
    gotLucky: PostmortemSection
  }
  actionItems: ActionItem[]
  runbookSteps: RunbookStepRecord[]
  /** Journal events in the window that changed something: deploys, rollbacks, flag changes, verdicts. */
  changes: TimelineEntry[]
  timeline: TimelineEntry[]
  anomalies: string[]
}

export interface PostmortemOptions {
  generatedAt: string
  /** How far before the impact (or declaration) the window opens, to catch the change that triggered it. */
  leadInMs: number
}

/** The window of journal events a post-mortem looks at: [impact start - lead-in, end of the incident]. */
export function postmortemWindow(incident: Incident, leadInMs: number, now: string): { from: string; to: string } {
  const start = Math.min(Date.parse(impactOrigin(incident).at), Date.parse(incident.openedAt))
  const end = incident.resolvedAt ?? incident.cancelledAt ?? now
  return { from: new Date(start - leadInMs).toISOString(), to: new Date(Math.max(Date.parse(end), start)).toISOString() }
}

export function buildPostmortem(incident: Incident, windowEvents: readonly JournalEvent[], options: PostmortemOptions): Postmortem {
  const window = postmortemWindow(incident, options.leadInMs, options.generatedAt)
  const origin = Date.parse(impactOrigin(incident).at)
  const seen = new Set<string>()
  const entries: TimelineEntry[] = []
  const add = (event: JournalEvent, source: TimelineEntry['source']) => {
    if (seen.has(event.id)) return
    seen.add(event.id)
    const highlight = highlightOf(event)
    entries.push({
      at: event.time,
      eventId: event.id,
      kind: event.kind,
      actor: event.actor,
      subject: event.subject,
      summary: describeEvent(event, incident.id),
      offsetMs: Date.parse(event.time) - origin,
      source,
      ...(highlight ? { highlight } : {}),
    })
  }
  for (const event of incident.events) add(event, 'incident')
  for (const event of windowEvents) {
    const owner = incidentKeyOf(event)
    if (owner !== undefined && owner !== incident.id) continue // another incident's
    if (event.time < window.from || event.time > window.to) continue
    add(event, owner === incident.id ? 'incident' : 'journal')
  }
  const derived = (at: string, kind: string, summary: string) =>
    entries.push({ at, eventId: '', kind, actor: '', subject: incident.id, summary, offsetMs: Date.parse(at) - origin, source: 'derived' })
  if (incident.impactStartedAt)
    derived(
      incident.impactStartedAt,
      'impact',
      `impact started (${incident.impactHistory.length > 1 ? `corrected by ${incident.impactHistory.at(-1)!.by}` : 'given with the declaration'})`,
    )
  for (const alert of incident.alerts) {
    const instance = alertInstance(alert, incident.alerts)
    const which = `${alert.name}${instance ? ` (${instance})` : ''}`
    if (alert.startsAt) derived(alert.startsAt, 'alert firing', `${which} firing${alert.summary ? `: ${alert.summary}` : ''}`)
    if (alert.status === 'resolved' && alert.endsAt) derived(alert.endsAt, 'alert resolved', `${which} resolved`)
  }
  if (incident.alertsResolvedAt && incident.alerts.length > 1)
    derived(incident.alertsResolvedAt, 'alerts resolved', `all ${incident.alerts.length} alerts resolved`)
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))

  const metrics = computeMetrics(incident)
  const changes = entries.filter((entry) => entry.source === 'journal' && entry.highlight)
  const severity = incident.severity ? severityDefinition(incident.severity) : undefined

  return {
    schema: POSTMORTEM_SCHEMA,
    generatedAt: options.generatedAt,
    incident: {
      id: incident.id,
      title: incident.title,
      severity: incident.severity ?? incident.severityText,
      ...pick(incident, ['severityReason', 'service']),
      status: incident.status,
      openedAt: incident.openedAt,
      openedBy: incident.openedBy,
      ...pick(incident, [
        'impactStartedAt',
        'alertsStartedAt',
        'alertsResolvedAt',
        'acknowledgedAt',
        'acknowledgedBy',
        'mitigatedAt',
        'mitigatedAutomatically',
        'resolvedAt',
        'cancelledAt',
      ]),
      source: incident.source,
      alerts: incident.alerts,
      alertsOmitted: incident.alertsOmitted,
      ...pick(incident, ['alertmanagerUrl']),
      runbooks: incident.runbooks,
    },
    history: { severity: incident.severityHistory, title: incident.titleHistory, impactStart: incident.impactHistory },
    window: { ...window, leadInMs: options.leadInMs },
    ...(severity ? { severity } : {}),
    metrics,
    responders: respondersOf(incident),
    sections: sectionsOf(incident, metrics, changes),
    actionItems: incident.actionItems,
    runbookSteps: incident.runbookSteps,
    changes,
    timeline: entries,
    anomalies: incident.anomalies,
  }
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key]
  return out
}

function respondersOf(incident: Incident): Responder[] {
  return incident.responders.map((person) => {
    const roles = [...new Set(incident.roleHistory.filter((entry) => entry.person === person).map((entry) => entry.role))]
    const own = incident.events.filter((event) => event.actor === person)
    const firstAt = own[0]?.time ?? incident.roleHistory.find((entry) => entry.person === person)?.at
    return { person, roles, ...(firstAt ? { firstAt } : {}), events: own.length }
  })
}

function sectionsOf(incident: Incident, metrics: IncidentMetric[], changes: TimelineEntry[]): Postmortem['sections'] {
  const metric = (name: IncidentMetric['name']) => metrics.find((entry) => entry.name === name)!
  const figure = (name: IncidentMetric['name']) => {
    const entry = metric(name)
    return entry.ms === undefined ? `not known (${entry.note})` : `${formatSpan(entry.ms)}${entry.note ? ` (${entry.note})` : ''}`
  }
  const where = incident.service ? ` on ${incident.service}` : ''
  const alertNames = [...new Set(incident.alerts.map((alert) => alert.name))]
  const declaredSeverity = incident.severityHistory[0]?.value

  const summary = [
    `${incident.severity ?? incident.severityText} incident "${incident.title}"${where}, declared at ${iso(incident.openedAt)} by ${incident.openedBy}${alertNames.length ? ` from the alert${alertNames.length > 1 ? 's' : ''} ${alertNames.join(', ')}` : ''}.`,
  ]
  if (declaredSeverity && declaredSeverity !== incident.severityText)
    summary.push(`Declared ${declaredSeverity}; ${incident.severityText} since ${iso(incident.severityHistory.at(-1)!.at)}.`)
  summary.push(statusSentence(incident))

  const impact: string[] = []
  if (incident.impactStartedAt) impact.push(`Impact started at ${iso(incident.impactStartedAt)}.`)
  else if (incident.alertsStartedAt)
    impact.push(
      `The first alert fired at ${iso(incident.alertsStartedAt)}; no person gave the start of impact, which was earlier by up to the alert rule's for: window.`,
    )
  else impact.push('The start of impact was not recorded.')
  const impactEnd = incident.mitigatedAt ?? incident.resolvedAt
  if (impactEnd)
    impact.push(
      `Impact ended at ${iso(impactEnd)} (${incident.mitigatedAt ? 'mitigation' : 'resolution'}), after ${figure('timeToMitigate')}.`,
    )
  for (const alert of incident.alerts) {
    const instance = alertInstance(alert, incident.alerts)
    impact.push(
      `Alert ${alert.name}${instance ? ` (${instance})` : ''}${alert.severity ? `, ${alert.severity}` : ''}${alert.startsAt ? `, firing from ${iso(alert.startsAt)}` : ''}${alert.endsAt ? ` to ${iso(alert.endsAt)}` : ''}${alert.summary ? `: ${alert.summary}` : ''}`,
    )
  }
  if (incident.alertsOmitted) impact.push(`${incident.alertsOmitted} more alerts of the group were not recorded (journal event size).`)

  // Rollbacks and flag kills mitigate: they are the response (see Resolution), not suspects.
  const candidates = changes.filter((entry) => !MITIGATING.includes(entry.highlight!) && !SIGNALS.includes(entry.highlight!))
  const contributing: PostmortemSection = candidates.length
    ? {
        intro: "Changes recorded in the journal in the incident's window (candidates to examine, not conclusions):",
        facts: candidates.map(
          (entry) => `${iso(entry.at)} ${entry.highlight}: ${entry.kind} ${entry.subject} — ${entry.summary} (${entry.actor})`,
        ),
      }
    : { facts: ["No deploy or flag change was recorded in the journal in the incident's window."] }

  const trigger: string[] = []
  const origin = impactOrigin(incident)
  const before = changes.filter((entry) => entry.at <= origin.at && (entry.highlight === 'deploy' || entry.highlight === 'flag change'))
  const last = before.at(-1)
  if (last)
    trigger.push(
      `The last change recorded before the ${origin.point === 'declaration' ? 'declaration' : origin.given ? 'impact started' : 'first alert fired'}: ${last.kind} ${last.subject} — ${last.summary}, at ${iso(last.at)} (${formatSpan(Date.parse(origin.at) - Date.parse(last.at))} before).`,
    )

  const detection: string[] = []
  if (incident.source === 'alertmanager' && alertNames.length) detection.push(`Detected by Alertmanager: ${alertNames.join(', ')}.`)
  else detection.push(`Declared by hand by ${incident.openedBy}.`)
  for (const signal of changes.filter((entry) => SIGNALS.includes(entry.highlight!)))
    detection.push(`${signal.highlight} at ${iso(signal.at)}: ${signal.summary} (${signal.actor}).`)
  detection.push(
    `Time to detect: ${figure('timeToDetect')}. Time to acknowledge: ${figure('timeToAcknowledge')}${incident.acknowledgedBy ? `, by ${incident.acknowledgedBy}` : ''}.`,
  )
  if (!incident.impactStartedAt && incident.alertsStartedAt)
    detection.push(
      "Time to detect is measured from the alert's startsAt, which Prometheus sets when the rule fires, after its for: window; give the real start of impact with opsctl incident update --impact-started to measure from it.",
    )

  const resolution: string[] = []
  if (incident.mitigatedAt)
    resolution.push(
      `Mitigated at ${iso(incident.mitigatedAt)}${incident.mitigatedAutomatically ? ' (automatically, when every alert had resolved)' : ''}${incident.mitigation ? `: ${incident.mitigation}` : ''}.`,
    )
  if (incident.alertsResolvedAt) resolution.push(`Every alert had resolved by ${iso(incident.alertsResolvedAt)}.`)
  if (incident.resolvedAt)
    resolution.push(`Resolved at ${iso(incident.resolvedAt)}${incident.resolution ? `: ${incident.resolution}` : ''}.`)
  if (incident.cancelledAt)
    resolution.push(`Cancelled at ${iso(incident.cancelledAt)}${incident.cancelReason ? `: ${incident.cancelReason}` : ''}.`)
  for (const entry of changes.filter((change) => MITIGATING.includes(change.highlight!)))
    resolution.push(`${entry.highlight} at ${iso(entry.at)} by ${entry.actor}: ${entry.summary}`)
  for (const step of incident.runbookSteps) {
    resolution.push(
      `Runbook ${step.runbook} step ${String(step.step)} run at ${iso(step.at)} by ${step.by}${step.exitCode === undefined ? '' : `, exit ${step.exitCode === null ? 'none (killed)' : step.exitCode}`}.`,
    )
  }
  resolution.push(`Time to mitigate: ${figure('timeToMitigate')}. Time to recover: ${figure('timeToRecover')}.`)

  const failedSteps = incident.runbookSteps.filter((step) => typeof step.exitCode === 'number' && step.exitCode !== 0)
  const wentBadly = failedSteps.map(
    (step) => `Runbook ${step.runbook} step ${String(step.step)} failed (exit ${step.exitCode}) at ${iso(step.at)}.`,
  )

  return {
    summary: { facts: summary, toBeWritten: 'What happened, to whom, and why, in three or four sentences a newcomer would understand.' },
    impact: {
      facts: impact,
      toBeWritten:
        'Who and what was affected and how badly: users or requests, errors, data, revenue, SLO error budget spent, support tickets.',
    },
    contributingFactors: {
      ...contributing,
      toBeWritten:
        'The conditions that made this possible, technical and organisational. Blameless: ask how the system let it happen, not who did it.',
    },
    trigger: { facts: trigger, toBeWritten: 'What set it off (a change, a traffic pattern, a dependency), if anything did.' },
    detection: { facts: detection, toBeWritten: 'How it was noticed, and what would have noticed it sooner.' },
    resolution: { facts: resolution, toBeWritten: 'What stopped the impact and what fixed the cause; what would have made it faster.' },
    wentWell: { facts: [], toBeWritten: 'What went well: tools, runbooks, alerts and habits that helped.' },
    wentBadly: { facts: wentBadly, toBeWritten: 'What went badly: what slowed the response or made it worse.' },
    gotLucky: { facts: [], toBeWritten: 'Where we got lucky: what limited the damage by chance rather than by design.' },
  }
}

function statusSentence(incident: Incident): string {
  switch (incident.status) {
    case 'resolved':
      return `Resolved at ${iso(incident.resolvedAt!)}.`
    case 'cancelled':
      return `Cancelled at ${iso(incident.cancelledAt!)}${incident.cancelReason ? `: ${incident.cancelReason}` : ''}.`
    default:
      return `Still ${incident.status} when this draft was generated.`
  }
}

/** ISO 8601 UTC, to the second, or to the millisecond when there are some: what files and post-mortems show. */
export function iso(time: string): string {
  const date = new Date(time)
  if (Number.isNaN(date.getTime())) return time
  const full = date.toISOString()
  return full.endsWith('.000Z') ? `${full.slice(0, 19)}Z` : full
}
