/**
 * Incident state is a pure replay (a fold) of the incident's journal events: nothing about an
 * incident is stored anywhere else, so the file journal and the PostgreSQL journal behave alike
 * and two responders writing at once both count. Events are read through their kinds' schemas
 * (events.ts), the same definitions the writers use. Replay never fails: events that make no
 * sense in their place (an acknowledgement after a cancel, a second declaration, data a kind's
 * schema refuses) are kept in the timeline and listed as anomalies.
 */
import { OpsError, ExitCode } from '../core/index.js'
import type { DefinedKind, JournalEvent } from '../journal/index.js'
import { alertFingerprint } from './alertmanager.js'
import { ACTION_ITEM_TYPES, alertRecordSchema, incidentEvents, runbookEvents, type AlertEnd, type AlertRecord } from './events.js'
import { readSeverity, type Severity } from './severity.js'

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'mitigated', 'resolved', 'cancelled'] as const
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number]

export interface RoleAssignment {
  role: string
  person: string
  at: string
  by: string
}

export interface IncidentNote {
  at: string
  by: string
  message: string
  eventId: string
}

export type ActionItemType = (typeof ACTION_ITEM_TYPES)[number]

export interface ActionItem {
  text: string
  owner?: string
  /** P0 (most urgent) to P4. */
  priority?: string
  /** As the Google SRE template has them: mitigate, prevent, detect, process. */
  type?: ActionItemType
  at: string
  by: string
  eventId: string
}

export interface RunbookStepRecord {
  at: string
  by: string
  runbook: string
  step: string | number
  status?: string
  exitCode?: number | null
  command?: string
  eventId: string
}

/** An alert of the incident: as delivered, with when the journal learnt of it and of its end. */
export interface AlertState extends AlertRecord {
  fingerprint: string
  status: 'firing' | 'resolved'
  /** When the notification that brought it was recorded. */
  recordedAt: string
  /** When the notification of its end was recorded. */
  resolvedRecordedAt?: string
}

/** A change of severity, title or impact start; the first entry of each history is the declaration's. */
export interface Change<T extends string = string> {
  value: T
  from?: T
  at: string
  by: string
  reason?: string
  eventId: string
}

export interface Incident {
  id: string
  title: string
  /** undefined when the journal holds a severity opsctl does not know (appended by hand). */
  severity: Severity | undefined
  severityText: string
  service?: string
  status: IncidentStatus
  openedAt: string
  openedBy: string
  openEventId: string
  /** The start of impact a person gave (at the declaration or corrected since). */
  impactStartedAt?: string
  /** The earliest startsAt of its alerts: when the alert rule fired, after its `for:` window. */
  alertsStartedAt?: string
  /** Every alert has resolved: the latest endsAt. */
  alertsResolvedAt?: string
  acknowledgedAt?: string
  acknowledgedBy?: string
  mitigatedAt?: string
  mitigation?: string
  /** Mitigated by the integration when every alert resolved (incident.mitigateWhenAlertsResolve). */
  mitigatedAutomatically?: boolean
  resolvedAt?: string
  resolution?: string
  cancelledAt?: string
  cancelReason?: string
  severityHistory: Change[]
  titleHistory: Change[]
  impactHistory: Change[]
  /** The current holder of each role. */
  roles: Record<string, string>
  roleHistory: RoleAssignment[]
  /** The people who acted on it or hold a role, in order of first appearance; integrations are not responders. */
  responders: string[]
  notes: IncidentNote[]
  actionItems: ActionItem[]
  runbookSteps: RunbookStepRecord[]
  source: string
  /** Why the declared severity: `--sev`, or which label value gave it. */
  severityReason?: string
  alerts: AlertState[]
  /** Alerts of a delivery left out to keep an event under the journal's size limit. */
  alertsOmitted: number
  alertGroupKey?: string
  groupLabels?: Record<string, string>
  alertmanagerUrl?: string
  /** Runbooks named when it was declared. */
  runbooks: string[]
  /** Every event of the incident, in journal order. */
  events: JournalEvent[]
  anomalies: string[]
}

export interface Replay {
  /** In order of declaration. */
  incidents: Incident[]
  /** Incident ids that have events but no incident.opened (a journal copied in part, a typo in a link). */
  orphans: Array<{ id: string; events: number }>
}

/** Which incident an event belongs to: links.incident, or the subject of an incident.* event appended by hand. */
export function incidentKeyOf(event: JournalEvent): string | undefined {
  const linked = event.links.incident
  if (linked) return linked
  return event.kind.startsWith('incident.') ? event.subject : undefined
}

export function isTerminal(status: IncidentStatus): boolean {
  return status === 'resolved' || status === 'cancelled'
}

const RANK: Record<IncidentStatus, number> = { open: 0, acknowledged: 1, mitigated: 2, resolved: 3, cancelled: 3 }

export function replayIncidents(events: Iterable<JournalEvent>): Replay {
  const groups = new Map<string, JournalEvent[]>()
  for (const event of events) {
    const key = incidentKeyOf(event)
    if (!key) continue
    const list = groups.get(key)
    if (list) list.push(event)
    else groups.set(key, [event])
  }
  const incidents: Incident[] = []
  const orphans: Replay['orphans'] = []
  for (const [id, list] of groups) {
    list.sort(journalOrder)
    const incident = replayIncident(id, list)
    if (incident) incidents.push(incident)
    else orphans.push({ id, events: list.length })
  }
  incidents.sort((a, b) => journalOrder({ id: a.openEventId }, { id: b.openEventId }))
  return { incidents, orphans }
}

/** Journal order is id order: ULIDs sort by the time they were made at, across writers. */
function journalOrder(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** The event's data as its kind defines it, or undefined when the data does not fit (appended by an older or another tool). */
function dataOf<Data extends Record<string, unknown>>(kind: DefinedKind<string, Data>, event: JournalEvent): Data | undefined {
  const parsed = kind.data.safeParse(event.data)
  return parsed.success ? parsed.data : undefined
}

/** Events the integration writes (alert notifications, the mitigation when every alert resolved): not a responder's action. */
function byIntegration(event: JournalEvent): boolean {
  if (incidentEvents.alerts.is(event)) return true
  if (incidentEvents.opened.is(event)) return event.data.via === 'webhook'
  if (incidentEvents.mitigated.is(event)) return event.data.automatic === true
  return false
}

/** One incident from its events in journal order; undefined when none of them declares it. */
export function replayIncident(id: string, events: readonly JournalEvent[]): Incident | undefined {
  const opened = events.find((event) => incidentEvents.opened.is(event))
  if (!opened) return undefined
  const declared = readDeclaration(opened)
  const incident: Incident = {
    id,
    title: declared.title ?? id,
    severity: readSeverity(declared.severity),
    severityText: declared.severity ?? '',
    ...(declared.service ? { service: declared.service } : {}),
    status: 'open',
    openedAt: opened.time,
    openedBy: opened.actor,
    openEventId: opened.id,
    ...(declared.impactStartedAt ? { impactStartedAt: declared.impactStartedAt } : {}),
    severityHistory: [],
    titleHistory: [],
    impactHistory: [],
    roles: {},
    roleHistory: [],
    responders: [],
    notes: [],
    actionItems: [],
    runbookSteps: [],
    source: declared.source ?? 'cli',
    ...(declared.severityReason ? { severityReason: declared.severityReason } : {}),
    alerts: [],
    alertsOmitted: declared.alertsOmitted ?? 0,
    ...(declared.alertGroupKey ? { alertGroupKey: declared.alertGroupKey } : {}),
    ...(declared.groupLabels ? { groupLabels: declared.groupLabels } : {}),
    ...(declared.alertmanagerUrl ? { alertmanagerUrl: declared.alertmanagerUrl } : {}),
    runbooks: declared.runbooks ?? [],
    events: [...events],
    anomalies: declared.problem ? [`incident.opened at ${opened.time}: ${declared.problem}`] : [],
  }
  const change = (value: string) => ({ value, at: opened.time, by: opened.actor, eventId: opened.id })
  if (declared.severity)
    incident.severityHistory.push({ ...change(declared.severity), ...(declared.severityReason ? { reason: declared.severityReason } : {}) })
  incident.titleHistory.push(change(incident.title))
  if (declared.impactStartedAt) incident.impactHistory.push(change(declared.impactStartedAt))
  addAlerts(incident, declared.alerts, opened.time)

  const responders = new Set<string>()
  const addResponder = (person: string | undefined) => {
    if (person && !responders.has(person)) {
      responders.add(person)
      incident.responders.push(person)
    }
  }
  if (!byIntegration(opened)) addResponder(opened.actor)
  if (declared.commander)
    assignRole(incident, { role: 'commander', person: declared.commander, at: opened.time, by: opened.actor }, addResponder)

  for (const event of events) {
    if (event === opened) continue
    if (!byIntegration(event)) addResponder(event.actor)
    applyEvent(incident, event, addResponder)
  }
  return incident
}

interface Declaration {
  title?: string
  severity?: string
  severityReason?: string
  service?: string
  commander?: string
  impactStartedAt?: string
  source?: string
  alerts: AlertRecord[]
  alertsOmitted?: number
  alertGroupKey?: string
  groupLabels?: Record<string, string>
  alertmanagerUrl?: string
  runbooks?: string[]
  /** What could not be read, when the data does not fit the kind's schema. */
  problem?: string
}

/** The declaration through its schema; when a store holds data that does not fit, what can be read of it. */
function readDeclaration(opened: JournalEvent): Declaration {
  const typed = dataOf(incidentEvents.opened, opened)
  if (typed) {
    return {
      ...typed,
      title: textOf(typed.title),
      severity: textOf(typed.severity),
      impactStartedAt: validTime(typed.impactStartedAt),
      alerts: typed.alerts ?? [],
    }
  }
  const data = opened.data
  const alerts = Array.isArray(data.alerts)
    ? data.alerts.flatMap((item) => {
        const parsed = alertRecordSchema.safeParse(item)
        return parsed.success ? [parsed.data] : []
      })
    : []
  const groupLabels = data.groupLabels
  return {
    title: textOf(data.title),
    severity: textOf(data.severity) ?? (typeof data.severity === 'number' ? String(data.severity) : undefined),
    severityReason: textOf(data.severityReason),
    service: textOf(data.service),
    commander: textOf(data.commander),
    impactStartedAt: validTime(data.impactStartedAt),
    source: textOf(data.source),
    alerts,
    alertGroupKey: textOf(data.alertGroupKey),
    ...(groupLabels && typeof groupLabels === 'object' && !Array.isArray(groupLabels)
      ? {
          groupLabels: Object.fromEntries(Object.entries(groupLabels).filter(([, value]) => typeof value === 'string')) as Record<
            string,
            string
          >,
        }
      : {}),
    alertmanagerUrl: textOf(data.alertmanagerUrl),
    runbooks: Array.isArray(data.runbooks) ? data.runbooks.filter((item): item is string => typeof item === 'string') : [],
    problem: 'its data does not fit the kind (written by another tool?); what could be read was kept',
  }
}

function applyEvent(incident: Incident, event: JournalEvent, addResponder: (person: string | undefined) => void): void {
  const at = event.time
  const ignore = (why: string): void => void incident.anomalies.push(`${event.kind} at ${at} by ${event.actor} ignored: ${why}`)
  const unreadable = () => ignore('its data does not fit the kind')

  if (incidentEvents.opened.is(event)) return ignore(`${incident.id} was already declared at ${incident.openedAt}`)

  if (incidentEvents.alerts.is(event)) {
    const data = dataOf(incidentEvents.alerts, event)
    if (!data) return unreadable()
    addAlerts(incident, data.firing, at)
    resolveAlerts(incident, data.resolved, at)
    incident.alertsOmitted += data.alertsOmitted ?? 0
    return
  }
  if (incidentEvents.acknowledged.is(event)) {
    const data = dataOf(incidentEvents.acknowledged, event) ?? {}
    if (incident.status === 'cancelled') return ignore(`it was cancelled at ${incident.cancelledAt}`)
    const by = textOf(data.by)
    if (incident.acknowledgedAt === undefined) {
      incident.acknowledgedAt = at
      incident.acknowledgedBy = by ?? event.actor
    }
    addResponder(by)
    advance(incident, 'acknowledged')
    return
  }
  if (incidentEvents.updated.is(event)) {
    const data = dataOf(incidentEvents.updated, event)
    if (!data) return unreadable()
    const base = { at, by: event.actor, eventId: event.id, ...(data.reason ? { reason: data.reason } : {}) }
    if (data.severity) {
      incident.severityHistory.push({ ...base, value: data.severity.to, from: incident.severityText || undefined })
      incident.severity = readSeverity(data.severity.to)
      incident.severityText = data.severity.to
    }
    if (data.title) {
      incident.titleHistory.push({ ...base, value: data.title.to, from: incident.title })
      incident.title = data.title.to
    }
    if (data.impactStartedAt) {
      const to = validTime(data.impactStartedAt.to)!
      incident.impactHistory.push({ ...base, value: to, ...(incident.impactStartedAt ? { from: incident.impactStartedAt } : {}) })
      incident.impactStartedAt = to
    }
    return
  }
  if (incidentEvents.mitigated.is(event)) {
    const data = dataOf(incidentEvents.mitigated, event) ?? {}
    if (isTerminal(incident.status)) return ignore(`it was already ${incident.status}`)
    if (incident.mitigatedAt === undefined) {
      incident.mitigatedAt = at
      const summary = textOf(data.summary)
      if (summary) incident.mitigation = summary
      if (data.automatic) incident.mitigatedAutomatically = true
    }
    advance(incident, 'mitigated')
    return
  }
  if (incidentEvents.resolved.is(event)) {
    const data = dataOf(incidentEvents.resolved, event) ?? {}
    if (isTerminal(incident.status)) return ignore(`it was already ${incident.status}`)
    incident.resolvedAt = at
    const summary = textOf(data.summary)
    if (summary) incident.resolution = summary
    incident.status = 'resolved'
    return
  }
  if (incidentEvents.cancelled.is(event)) {
    const data = dataOf(incidentEvents.cancelled, event) ?? {}
    if (isTerminal(incident.status)) return ignore(`it was already ${incident.status}`)
    incident.cancelledAt = at
    const reason = textOf(data.reason)
    if (reason) incident.cancelReason = reason
    incident.status = 'cancelled'
    return
  }
  if (incidentEvents.note.is(event)) {
    const data = dataOf(incidentEvents.note, event)
    const message = textOf(data?.message)
    if (!data || !message) return ignore('a note without a message')
    incident.notes.push({ at, by: event.actor, message, eventId: event.id })
    for (const item of parseActionItems(message, data)) incident.actionItems.push({ ...item, at, by: event.actor, eventId: event.id })
    return
  }
  if (incidentEvents.role.is(event)) {
    const data = dataOf(incidentEvents.role, event)
    if (!data) return ignore('a role without role and person')
    assignRole(incident, { role: data.role, person: data.person, at, by: event.actor }, addResponder)
    return
  }
  if (runbookEvents.step.is(event)) {
    const data = dataOf(runbookEvents.step, event)
    if (!data) return unreadable()
    incident.runbookSteps.push({
      at,
      by: event.actor,
      runbook: data.runbook,
      step: data.step,
      ...(data.status ? { status: data.status } : {}),
      ...(data.exitCode !== undefined ? { exitCode: data.exitCode } : {}),
      ...(data.command ? { command: data.command } : {}),
      eventId: event.id,
    })
    return
  }
  // other linked events (a deploy, a flag kill with links.incident) belong to the timeline only
}

/** The identity of one firing: an alert that resolves and fires again is a new firing of the same fingerprint. */
export function alertKey(alert: { fingerprint?: string; name: string; labels?: Record<string, string>; startsAt?: string }): string {
  return `${fingerprintOf(alert)}@${alert.startsAt ?? ''}`
}

function fingerprintOf(alert: { fingerprint?: string; name: string; labels?: Record<string, string> }): string {
  return alert.fingerprint || alertFingerprint(alert.labels ?? { alertname: alert.name })
}

function addAlerts(incident: Incident, records: readonly AlertRecord[], at: string): void {
  for (const record of records) {
    const alert: AlertState = {
      ...record,
      fingerprint: fingerprintOf(record),
      status: record.status ?? 'firing',
      recordedAt: at,
      ...(record.status === 'resolved' ? { resolvedRecordedAt: at } : {}),
    }
    if (incident.alerts.some((known) => alertKey(known) === alertKey(alert))) continue
    incident.alerts.push(alert)
  }
  settleAlerts(incident)
}

function resolveAlerts(incident: Incident, ends: readonly AlertEnd[], at: string): void {
  for (const end of ends) {
    const known =
      incident.alerts.find((alert) => alertKey(alert) === alertKey(end)) ??
      incident.alerts.findLast((alert) => alert.fingerprint === end.fingerprint && alert.status === 'firing')
    if (known) {
      if (known.status === 'resolved') continue
      known.status = 'resolved'
      known.endsAt = end.endsAt
      known.resolvedRecordedAt = at
    } else {
      incident.alerts.push({ ...end, status: 'resolved', recordedAt: at, resolvedRecordedAt: at })
    }
  }
  settleAlerts(incident)
}

/** The earliest start of the alerts, and, once every one has resolved, the latest end. */
function settleAlerts(incident: Incident): void {
  const starts = incident.alerts.map((alert) => alert.startsAt).filter((value): value is string => Boolean(value))
  if (starts.length) incident.alertsStartedAt = starts.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b))
  const allResolved = incident.alerts.length > 0 && incident.alerts.every((alert) => alert.status === 'resolved')
  if (allResolved) {
    const ends = incident.alerts.map((alert) => alert.endsAt ?? alert.resolvedRecordedAt!).filter(Boolean)
    incident.alertsResolvedAt = ends.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b))
  } else delete incident.alertsResolvedAt
}

function advance(incident: Incident, status: IncidentStatus): void {
  if (!isTerminal(incident.status) && RANK[status] > RANK[incident.status]) incident.status = status
}

function assignRole(incident: Incident, assignment: RoleAssignment, addResponder: (person: string | undefined) => void): void {
  const role = assignment.role.trim().toLowerCase()
  incident.roles[role] = assignment.person
  incident.roleHistory.push({ ...assignment, role })
  addResponder(assignment.person)
}

const ACTION_ITEM = /^\s*(?:[-*]\s+)?TODO(?:\(([^)]*)\))?\s*:\s*(.*\S)\s*$/i
const PRIORITY = /^p[0-4]$/i

export interface ActionItemDefaults {
  owner?: string
  priority?: string
  type?: ActionItemType
}

/**
 * `TODO: add an alert on pool saturation`, `TODO(dave): ...` or `TODO(P1, prevent, dave): ...` on a
 * line of its own, as PagerDuty's scribes mark follow-ups: in the parentheses a priority (P0–P4), a
 * type (mitigate, prevent, detect, process) and an owner, in any order. `defaults` are the note's
 * --owner, --priority and --type, for TODOs that name none.
 */
export function parseActionItems(message: string, defaults: ActionItemDefaults = {}): Array<Omit<ActionItem, 'at' | 'by' | 'eventId'>> {
  const items: Array<Omit<ActionItem, 'at' | 'by' | 'eventId'>> = []
  for (const line of message.split(/\r?\n/)) {
    const match = ACTION_ITEM.exec(line)
    if (!match) continue
    let owner: string | undefined
    let priority: string | undefined
    let type: ActionItemType | undefined
    for (const token of (match[1] ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      if (PRIORITY.test(token)) priority = token.toUpperCase()
      else if ((ACTION_ITEM_TYPES as readonly string[]).includes(token.toLowerCase())) type = token.toLowerCase() as ActionItemType
      else owner = token.replace(/^@/, '')
    }
    owner ||= defaults.owner?.trim().replace(/^@/, '') || undefined
    priority ??= defaults.priority?.toUpperCase()
    type ??= defaults.type
    items.push({ text: match[2]!, ...(owner ? { owner } : {}), ...(priority ? { priority } : {}), ...(type ? { type } : {}) })
  }
  return items
}

// --- transitions ------------------------------------------------------------------------------

export type IncidentAction = 'acknowledge' | 'mitigate' | 'resolve' | 'cancel'

export const ACTION_KINDS = {
  acknowledge: incidentEvents.acknowledged.kind,
  mitigate: incidentEvents.mitigated.kind,
  resolve: incidentEvents.resolved.kind,
  cancel: incidentEvents.cancelled.kind,
} as const satisfies Record<IncidentAction, string>

const ACTION_STATUS: Record<IncidentAction, IncidentStatus> = {
  acknowledge: 'acknowledged',
  mitigate: 'mitigated',
  resolve: 'resolved',
  cancel: 'cancelled',
}

export type TransitionPlan = { write: true; kind: string } | { write: false; message: string }

/**
 * Whether an action may be recorded on the incident as replayed now. Asking again for the
 * state it is in is idempotent (nothing written, exit 0) — except a second acknowledgement by
 * someone else, which would hide who has it. Going backwards or acting on a closed incident is
 * an error with exit 1 (the incident's state refused it; the command itself was well formed).
 */
export function planTransition(incident: Incident, action: IncidentAction, actor: string): TransitionPlan {
  const target = ACTION_STATUS[action]
  const { status, id } = incident
  const refuse = (message: string, hint: string) => {
    throw new OpsError(message, { exit: ExitCode.CheckFailed, hint })
  }
  if (status === 'cancelled') {
    if (action === 'cancel') return { write: false, message: `${id} is already cancelled (${incident.cancelledAt}).` }
    return refuse(
      `${id} was cancelled at ${incident.cancelledAt}; it cannot be ${target} now.`,
      'If the problem is real after all, declare a new incident with opsctl incident start.',
    )
  }
  if (status === 'resolved') {
    if (action === 'resolve') return { write: false, message: `${id} is already resolved (${incident.resolvedAt}).` }
    if (action === 'cancel')
      return refuse(
        `${id} was resolved at ${incident.resolvedAt}; a resolved incident cannot be cancelled.`,
        'Note why it was not a real incident with opsctl incident log.',
      )
    return refuse(
      `${id} was resolved at ${incident.resolvedAt}; it cannot be ${target} now.`,
      'If it is back, declare a new incident with opsctl incident start and link the two in a note.',
    )
  }
  if (action === 'cancel') return { write: true, kind: ACTION_KINDS.cancel }
  if (target === status) {
    if (action === 'acknowledge' && incident.acknowledgedBy && incident.acknowledgedBy !== actor) {
      return refuse(
        `${id} is already acknowledged by ${incident.acknowledgedBy} (${incident.acknowledgedAt}).`,
        `To take it over, agree on the call and run opsctl incident role commander ${actor} --incident ${id}.`,
      )
    }
    const when = action === 'acknowledge' ? incident.acknowledgedAt : incident.mitigatedAt
    return { write: false, message: `${id} is already ${status} (${when}).` }
  }
  if (RANK[target] < RANK[status])
    return refuse(`${id} is already ${status}; it cannot be ${target} now.`, 'Run opsctl incident status to see where it stands.')
  return { write: true, kind: ACTION_KINDS[action] }
}

// --- helpers ---------------------------------------------------------------------------------

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined
}

function validTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const time = Date.parse(value)
  return Number.isNaN(time) ? undefined : new Date(time).toISOString()
}
