/**
 * The blameless post-mortem, built from the incident's replayed state and the journal events in
 * its window. Pure: facts come from events and timestamps; everything else is a clearly marked
 * prompt for the team ("To be written: ..."), never invented. Sections follow the Google SRE
 * book's template and PagerDuty's.
 */
import { summarizeEvent, summarizeEventData, type JournalEvent } from '../journal/index.js'
import type { Block } from './document.js'
import { computeMetrics, formatSpan, type IncidentMetric } from './metrics.js'
import { severityDefinition, type SeverityDefinition } from './severity.js'
import { incidentKeyOf, type ActionItem, type AlertRecord, type Incident, type RunbookStepRecord } from './state.js'

export const POSTMORTEM_SCHEMA = 'opsctl.postmortem/1'

export interface TimelineEntry {
  at: string
  eventId: string
  kind: string
  actor: string
  subject: string
  summary: string
  /** From the start of impact (or the declaration when it is not recorded); negative before it. */
  offsetMs: number
  /** `derived`: a point recorded inside another event (the impact start, an alert's startsAt). */
  source: 'incident' | 'journal' | 'derived'
  /** rollback, canary failed, flag kill, gate failed, deploy, flag change. */
  highlight?: string
}

export interface Responder {
  person: string
  roles: string[]
  firstAt?: string
  events: number
}

export interface PostmortemSection {
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
    service?: string
    status: Incident['status']
    openedAt: string
    openedBy: string
    impactStartedAt?: string
    acknowledgedAt?: string
    acknowledgedBy?: string
    mitigatedAt?: string
    resolvedAt?: string
    cancelledAt?: string
    source: string
    alerts: AlertRecord[]
    runbooks: string[]
  }
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
  const start = Math.min(Date.parse(incident.impactStartedAt ?? incident.openedAt), Date.parse(incident.openedAt))
  const end = incident.resolvedAt ?? incident.cancelledAt ?? now
  return { from: new Date(start - leadInMs).toISOString(), to: new Date(Math.max(Date.parse(end), start)).toISOString() }
}

export function buildPostmortem(incident: Incident, windowEvents: readonly JournalEvent[], options: PostmortemOptions): Postmortem {
  const window = postmortemWindow(incident, options.leadInMs, options.generatedAt)
  const origin = Date.parse(incident.impactStartedAt ?? incident.openedAt)
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
      summary: describeEvent(event, incident),
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
  if (incident.impactStartedAt) derived(incident.impactStartedAt, 'impact', `impact started (recorded with the declaration${incident.source === 'alertmanager' ? ', from the alerts' : ''})`)
  for (const alert of incident.alerts) if (alert.startsAt) derived(alert.startsAt, 'alert', `${alert.name} firing${alert.summary ? `: ${alert.summary}` : ''}`)
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))

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
      ...(incident.service ? { service: incident.service } : {}),
      status: incident.status,
      openedAt: incident.openedAt,
      openedBy: incident.openedBy,
      ...pick(incident, ['impactStartedAt', 'acknowledgedAt', 'acknowledgedBy', 'mitigatedAt', 'resolvedAt', 'cancelledAt']),
      source: incident.source,
      alerts: incident.alerts,
      runbooks: incident.runbooks,
    },
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

function highlightOf(event: JournalEvent): string | undefined {
  const data = event.data
  switch (event.kind) {
    case 'deploy.rollback':
      return 'rollback'
    case 'deploy.verdict':
      return data.verdict === 'fail' ? 'canary failed' : undefined
    case 'deploy.started':
      return 'deploy'
    case 'flag.changed':
      return data.change === 'killed' ? 'flag kill' : 'flag change'
    case 'gate.verdict':
      return data.verdict === 'fail' ? 'gate failed' : undefined
    default:
      return undefined
  }
}

/** The incident's own events: its timelines show them whole, in the journal's wording. */
export function isIncidentKind(kind: string): boolean {
  return kind.startsWith('incident.') || kind === 'runbook.step'
}

/**
 * The journal's wording of each event. The incident's own events are given whole (a note is the
 * record, not a line), with what a post-mortem reader needs on top; other journal events are
 * the journal's one-line summary, without the link back to this incident.
 */
function describeEvent(event: JournalEvent, incident: Incident): string {
  if (isIncidentKind(event.kind)) {
    // An acknowledgement that names nobody was made by its actor.
    const data = event.kind === 'incident.acknowledged' && !event.data.by ? { ...event.data, by: event.actor } : event.data
    const wording = summarizeEventData(event.kind, data)
    if (wording !== undefined) return wording + postmortemDetail(event)
  }
  const summary = summarizeEvent({ ...event, links: Object.fromEntries(Object.entries(event.links).filter(([name]) => name !== 'incident' || event.links.incident !== incident.id)) })
  return summary || event.kind
}

/** The commander named at the declaration, and the command a runbook step ran. */
function postmortemDetail(event: JournalEvent): string {
  const { commander, command } = event.data
  if (event.kind === 'incident.opened' && typeof commander === 'string' && commander) return ` (commander ${commander})`
  if (event.kind === 'runbook.step' && typeof command === 'string' && command) return `: ${firstLine(command)}`
  return ''
}

function firstLine(text: string): string {
  const [first, ...rest] = text.split('\n')
  return rest.length > 0 ? `${first} …` : (first ?? '')
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

  const summary = [
    `${incident.severity ?? incident.severityText} incident "${incident.title}"${where}, declared at ${iso(incident.openedAt)} by ${incident.openedBy}${alertNames.length ? ` from the alert${alertNames.length > 1 ? 's' : ''} ${alertNames.join(', ')}` : ''}.`,
    statusSentence(incident),
  ]

  const impact: string[] = []
  impact.push(incident.impactStartedAt ? `Impact started at ${iso(incident.impactStartedAt)}.` : 'The start of impact was not recorded.')
  const impactEnd = incident.mitigatedAt ?? incident.resolvedAt
  if (impactEnd) impact.push(`Impact ended at ${iso(impactEnd)} (${incident.mitigatedAt ? 'mitigation' : 'resolution'}), after ${figure('timeToMitigate')}.`)
  for (const alert of incident.alerts) impact.push(`Alert ${alert.name}${alert.severity ? ` (${alert.severity})` : ''}${alert.startsAt ? ` firing since ${iso(alert.startsAt)}` : ''}${alert.summary ? `: ${alert.summary}` : ''}`)

  const changeFacts = changes.map((entry) => `${iso(entry.at)} ${entry.highlight}: ${entry.kind} ${entry.subject} — ${entry.summary} (${entry.actor})`)
  const contributing = changeFacts.length
    ? [`Changes recorded in the journal in the incident's window (candidates to examine, not conclusions):`, ...changeFacts]
    : ['No deploy, flag change or verdict was recorded in the journal in the incident\'s window.']

  const trigger: string[] = []
  const origin = incident.impactStartedAt ?? incident.openedAt
  const before = changes.filter((entry) => entry.at <= origin && (entry.highlight === 'deploy' || entry.highlight === 'flag change'))
  const last = before.at(-1)
  if (last) trigger.push(`The last change recorded before the ${incident.impactStartedAt ? 'impact started' : 'declaration'}: ${last.kind} ${last.subject} — ${last.summary}, at ${iso(last.at)} (${formatSpan(Date.parse(origin) - Date.parse(last.at))} before).`)

  const detection: string[] = []
  if (incident.source === 'alertmanager' && alertNames.length) detection.push(`Detected by Alertmanager: ${alertNames.join(', ')}.`)
  else detection.push(`Declared by hand by ${incident.openedBy}.`)
  detection.push(`Time to detect: ${figure('timeToDetect')}. Time to acknowledge: ${figure('timeToAcknowledge')}${incident.acknowledgedBy ? `, by ${incident.acknowledgedBy}` : ''}.`)

  const resolution: string[] = []
  if (incident.mitigatedAt) resolution.push(`Mitigated at ${iso(incident.mitigatedAt)}${incident.mitigation ? `: ${incident.mitigation}` : ''}.`)
  if (incident.resolvedAt) resolution.push(`Resolved at ${iso(incident.resolvedAt)}${incident.resolution ? `: ${incident.resolution}` : ''}.`)
  if (incident.cancelledAt) resolution.push(`Cancelled at ${iso(incident.cancelledAt)}${incident.cancelReason ? `: ${incident.cancelReason}` : ''}.`)
  for (const entry of changes.filter((change) => change.highlight === 'rollback' || change.highlight === 'flag kill')) {
    resolution.push(`${entry.highlight} at ${iso(entry.at)} by ${entry.actor}: ${entry.summary}`)
  }
  for (const step of incident.runbookSteps) {
    resolution.push(`Runbook ${step.runbook} step ${String(step.step)} run at ${iso(step.at)} by ${step.by}${step.exitCode === undefined ? '' : `, exit ${step.exitCode === null ? 'none (killed)' : step.exitCode}`}.`)
  }
  resolution.push(`Time to mitigate: ${figure('timeToMitigate')}. Time to recover: ${figure('timeToRecover')}.`)

  const failedSteps = incident.runbookSteps.filter((step) => typeof step.exitCode === 'number' && step.exitCode !== 0)
  const wentBadly = failedSteps.map((step) => `Runbook ${step.runbook} step ${String(step.step)} failed (exit ${step.exitCode}) at ${iso(step.at)}.`)

  return {
    summary: { facts: summary, toBeWritten: 'What happened, to whom, and why, in three or four sentences a newcomer would understand.' },
    impact: { facts: impact, toBeWritten: 'Who and what was affected and how badly: users or requests, errors, data, revenue, SLO error budget spent, support tickets.' },
    contributingFactors: { facts: contributing, toBeWritten: 'The conditions that made this possible, technical and organisational. Blameless: ask how the system let it happen, not who did it.' },
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

/** ISO 8601 UTC to the second: what files and post-mortems show. */
export function iso(time: string): string {
  return `${new Date(time).toISOString().slice(0, 19)}Z`
}

function signedSpan(ms: number): string {
  if (ms === 0) return '0s'
  return ms > 0 ? `+${formatSpan(ms)}` : formatSpan(ms)
}

// --- the document ----------------------------------------------------------------------------

export function postmortemTitle(postmortem: Postmortem): string {
  return `Post-mortem: ${postmortem.incident.id} — ${postmortem.incident.title}`
}

export function postmortemBlocks(pm: Postmortem): Block[] {
  const blocks: Block[] = []
  const heading = (text: string) => blocks.push({ type: 'heading', level: 2, text })
  const section = (title: string, value: PostmortemSection) => {
    heading(title)
    if (value.facts.length === 1) blocks.push({ type: 'paragraph', content: [value.facts[0]!] })
    else if (value.facts.length > 1) blocks.push({ type: 'list', items: value.facts.map((fact) => [fact]) })
    if (value.toBeWritten) blocks.push({ type: 'prompt', text: value.toBeWritten })
  }
  const { incident } = pm

  blocks.push({ type: 'heading', level: 1, text: postmortemTitle(pm) })
  blocks.push({
    type: 'paragraph',
    content: [
      { em: `Blameless post-mortem drafted by opsctl from the ops journal at ${iso(pm.generatedAt)}. Facts and figures come from recorded events; the parts marked "To be written" are for the people who were there.` },
    ],
  })
  blocks.push({
    type: 'table',
    header: ['', ''],
    rows: [
      [[{ strong: 'Incident' }], [{ code: incident.id }]],
      [[{ strong: 'Severity' }], [pm.severity ? `${pm.severity.severity} (${pm.severity.name})` : incident.severity]],
      [[{ strong: 'Service' }], [incident.service ?? { em: 'not recorded' }]],
      [[{ strong: 'Status' }], [incident.status]],
      [[{ strong: 'Declared' }], [`${iso(incident.openedAt)} by ${incident.openedBy}`]],
      [[{ strong: 'Commander' }], [pm.responders.find((responder) => responder.roles.includes('commander'))?.person ?? { em: 'not recorded' }]],
      [[{ strong: 'Authors' }], [{ em: 'To be written' }]],
      [[{ strong: 'Review date' }], [{ em: 'To be written' }]],
    ],
  })

  section('Summary', pm.sections.summary)
  section('Impact', pm.sections.impact)

  heading('Severity')
  if (pm.severity) blocks.push({ type: 'paragraph', content: [{ strong: `${pm.severity.severity} — ${pm.severity.name}.` }, ` ${pm.severity.definition} ${pm.severity.response}`] })
  else blocks.push({ type: 'paragraph', content: [`"${incident.severity}" is not one of SEV1 to SEV5.`] })

  heading('Response figures')
  blocks.push({
    type: 'table',
    header: ['Figure', 'Value', 'From', 'To'],
    align: ['left', 'right', 'left', 'left'],
    rows: pm.metrics.map((metric) => [
      [metric.label],
      metric.ms === undefined ? [{ em: 'not known' }] : [formatSpan(metric.ms)],
      metric.from ? [`${metric.from.point}, ${iso(metric.from.at)}`] : [],
      metric.to ? [`${metric.to.point}, ${iso(metric.to.at)}`] : [metric.note ?? ''],
    ]),
  })
  blocks.push({ type: 'list', items: pm.metrics.map((metric) => [{ strong: metric.label }, `: ${metric.definition}${metric.note && metric.ms !== undefined ? ` Here: ${metric.note}.` : ''}`]) })

  heading('Responders')
  blocks.push({
    type: 'table',
    header: ['Person', 'Roles', 'First action', 'Events'],
    align: ['left', 'left', 'left', 'right'],
    rows: pm.responders.map((responder) => [[responder.person], [responder.roles.join(', ') || '—'], [responder.firstAt ? iso(responder.firstAt) : '—'], [String(responder.events)]]),
  })

  section('Contributing factors', pm.sections.contributingFactors)
  section('Trigger', pm.sections.trigger)
  section('Detection', pm.sections.detection)
  section('Resolution', pm.sections.resolution)

  heading('Lessons learned')
  for (const [title, value] of [
    ['What went well', pm.sections.wentWell],
    ['What went badly', pm.sections.wentBadly],
    ['Where we got lucky', pm.sections.gotLucky],
  ] as const) {
    blocks.push({ type: 'heading', level: 3, text: title })
    if (value.facts.length) blocks.push({ type: 'list', items: value.facts.map((fact) => [fact]) })
    if (value.toBeWritten) blocks.push({ type: 'prompt', text: value.toBeWritten })
  }

  heading('Action items')
  if (pm.actionItems.length) {
    blocks.push({
      type: 'table',
      header: ['Action', 'Owner', 'Recorded', 'Ticket'],
      rows: pm.actionItems.map((item) => [[item.text], [item.owner ?? { em: 'to be assigned' }], [`${iso(item.at)} by ${item.by}`], [{ em: 'to be filed' }]]),
    })
  } else blocks.push({ type: 'paragraph', content: ['No action item was logged during the incident (a note line starting with TODO: becomes one).'] })
  blocks.push({ type: 'prompt', text: 'The follow-ups agreed in the review, each with an owner, a priority and a ticket.' })

  heading('Timeline')
  blocks.push({
    type: 'paragraph',
    content: [
      `Times in UTC; offsets from the ${incident.impactStartedAt ? 'start of impact' : 'declaration'}. Journal events from ${iso(pm.window.from)} (${formatSpan(pm.window.leadInMs)} before) to ${iso(pm.window.to)}; incident events whenever recorded.`,
    ],
  })
  blocks.push({
    type: 'table',
    header: ['Time', 'Offset', 'Event', 'Who', 'What'],
    align: ['left', 'right', 'left', 'left', 'left'],
    rows: pm.timeline.map((entry) => [
      [iso(entry.at)],
      [signedSpan(entry.offsetMs)],
      entry.source === 'derived' ? [{ em: entry.kind }] : [{ code: entry.kind }],
      [entry.actor || '—'],
      entry.highlight ? [{ strong: `${entry.highlight}:` }, ` ${entry.summary}`] : [entry.summary],
    ]),
  })
  if (pm.anomalies.length) {
    heading('Notes on the record')
    blocks.push({ type: 'list', items: pm.anomalies.map((anomaly) => [anomaly]) })
  }
  return blocks
}

