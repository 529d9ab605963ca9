/**
 * Incident state is a pure replay (a fold) of the incident's journal events: nothing about an
 * incident is stored anywhere else, so the file journal and the PostgreSQL journal behave alike
 * and two responders writing at once both count. Replay never fails: events that make no sense
 * in their place (an acknowledgement after a cancel, a second declaration) are kept in the
 * timeline and listed as anomalies.
 */
import { OpsError, ExitCode } from '../core/index.js'
import type { JournalEvent } from '../journal/index.js'
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

export interface ActionItem {
  text: string
  owner?: string
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

export interface AlertRecord {
  name: string
  severity?: string
  service?: string
  summary?: string
  startsAt?: string
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
  impactStartedAt?: string
  acknowledgedAt?: string
  acknowledgedBy?: string
  mitigatedAt?: string
  mitigation?: string
  resolvedAt?: string
  resolution?: string
  cancelledAt?: string
  cancelReason?: string
  /** The current holder of each role. */
  roles: Record<string, string>
  roleHistory: RoleAssignment[]
  /** Everyone who acted on it or holds a role, in order of first appearance. */
  responders: string[]
  notes: IncidentNote[]
  actionItems: ActionItem[]
  runbookSteps: RunbookStepRecord[]
  source: string
  alerts: AlertRecord[]
  alertGroupKey?: string
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

/** One incident from its events in journal order; undefined when none of them declares it. */
export function replayIncident(id: string, events: readonly JournalEvent[]): Incident | undefined {
  const opened = events.find((event) => event.kind === 'incident.opened')
  if (!opened) return undefined
  const data = opened.data
  const severityText = textOf(data.severity) ?? ''
  const incident: Incident = {
    id,
    title: textOf(data.title) ?? id,
    severity: readSeverity(data.severity),
    severityText,
    ...optionalText('service', data.service),
    status: 'open',
    openedAt: opened.time,
    openedBy: opened.actor,
    openEventId: opened.id,
    ...optionalText('impactStartedAt', validTime(data.impactStartedAt)),
    roles: {},
    roleHistory: [],
    responders: [],
    notes: [],
    actionItems: [],
    runbookSteps: [],
    source: textOf(data.source) ?? 'cli',
    alerts: readAlerts(data.alerts),
    ...optionalText('alertGroupKey', data.alertGroupKey),
    runbooks: Array.isArray(data.runbooks) ? data.runbooks.filter((item): item is string => typeof item === 'string') : [],
    events: [...events],
    anomalies: [],
  }
  const responders = new Set<string>()
  const addResponder = (person: string | undefined) => {
    if (person && !responders.has(person)) {
      responders.add(person)
      incident.responders.push(person)
    }
  }
  addResponder(opened.actor)
  const commander = textOf(data.commander)
  if (commander) assignRole(incident, { role: 'commander', person: commander, at: opened.time, by: opened.actor }, addResponder)

  for (const event of events) {
    if (event === opened) continue
    addResponder(event.actor)
    applyEvent(incident, event, addResponder)
  }
  return incident
}

function applyEvent(incident: Incident, event: JournalEvent, addResponder: (person: string | undefined) => void): void {
  const data = event.data
  const at = event.time
  const ignore = (why: string): void => void incident.anomalies.push(`${event.kind} at ${at} by ${event.actor} ignored: ${why}`)
  switch (event.kind) {
    case 'incident.opened':
      ignore(`${incident.id} was already declared at ${incident.openedAt}`)
      return
    case 'incident.acknowledged': {
      if (incident.status === 'cancelled') return ignore(`it was cancelled at ${incident.cancelledAt}`)
      if (incident.acknowledgedAt === undefined) {
        incident.acknowledgedAt = at
        incident.acknowledgedBy = textOf(data.by) ?? event.actor
      }
      addResponder(textOf(data.by))
      advance(incident, 'acknowledged')
      return
    }
    case 'incident.mitigated': {
      if (isTerminal(incident.status)) return ignore(`it was already ${incident.status}`)
      if (incident.mitigatedAt === undefined) {
        incident.mitigatedAt = at
        const summary = textOf(data.summary)
        if (summary) incident.mitigation = summary
      }
      advance(incident, 'mitigated')
      return
    }
    case 'incident.resolved': {
      if (isTerminal(incident.status)) return ignore(`it was already ${incident.status}`)
      incident.resolvedAt = at
      const summary = textOf(data.summary)
      if (summary) incident.resolution = summary
      incident.status = 'resolved'
      return
    }
    case 'incident.cancelled': {
      if (isTerminal(incident.status)) return ignore(`it was already ${incident.status}`)
      incident.cancelledAt = at
      const reason = textOf(data.reason)
      if (reason) incident.cancelReason = reason
      incident.status = 'cancelled'
      return
    }
    case 'incident.note': {
      const message = textOf(data.message)
      if (!message) return ignore('a note without a message')
      incident.notes.push({ at, by: event.actor, message, eventId: event.id })
      for (const item of parseActionItems(message, textOf(data.owner))) incident.actionItems.push({ ...item, at, by: event.actor, eventId: event.id })
      return
    }
    case 'incident.role': {
      const role = textOf(data.role)
      const person = textOf(data.person)
      if (!role || !person) return ignore('a role without role and person')
      assignRole(incident, { role, person, at, by: event.actor }, addResponder)
      return
    }
    case 'runbook.step': {
      const exitCode = data.exitCode
      incident.runbookSteps.push({
        at,
        by: event.actor,
        runbook: textOf(data.runbook) ?? '?',
        step: typeof data.step === 'number' ? data.step : (textOf(data.step) ?? '?'),
        ...optionalText('status', data.status),
        ...(typeof exitCode === 'number' || exitCode === null ? { exitCode } : {}),
        ...optionalText('command', data.command),
        eventId: event.id,
      })
      return
    }
    default:
      return // other linked events (a deploy, a flag kill with links.incident) belong to the timeline only
  }
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

/**
 * `TODO: add an alert on pool saturation` or `TODO(dave): ...` on a line of its own, as
 * PagerDuty's scribes mark follow-ups; `owner` is the note's --owner, for TODOs that name none.
 */
export function parseActionItems(message: string, owner?: string): Array<{ text: string; owner?: string }> {
  const items: Array<{ text: string; owner?: string }> = []
  for (const line of message.split(/\r?\n/)) {
    const match = ACTION_ITEM.exec(line)
    if (!match) continue
    const named = match[1]?.trim().replace(/^@/, '') || owner?.trim().replace(/^@/, '')
    items.push({ text: match[2]!, ...(named ? { owner: named } : {}) })
  }
  return items
}

// --- transitions ------------------------------------------------------------------------------

export type IncidentAction = 'acknowledge' | 'mitigate' | 'resolve' | 'cancel'

export const ACTION_KINDS: Record<IncidentAction, string> = {
  acknowledge: 'incident.acknowledged',
  mitigate: 'incident.mitigated',
  resolve: 'incident.resolved',
  cancel: 'incident.cancelled',
}

const ACTION_STATUS: Record<IncidentAction, IncidentStatus> = { acknowledge: 'acknowledged', mitigate: 'mitigated', resolve: 'resolved', cancel: 'cancelled' }

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
    return refuse(`${id} was cancelled at ${incident.cancelledAt}; it cannot be ${target} now.`, 'If the problem is real after all, declare a new incident with opsctl incident start.')
  }
  if (status === 'resolved') {
    if (action === 'resolve') return { write: false, message: `${id} is already resolved (${incident.resolvedAt}).` }
    if (action === 'cancel') return refuse(`${id} was resolved at ${incident.resolvedAt}; a resolved incident cannot be cancelled.`, 'Note why it was not a real incident with opsctl incident log.')
    return refuse(`${id} was resolved at ${incident.resolvedAt}; it cannot be ${target} now.`, 'If it is back, declare a new incident with opsctl incident start and link the two in a note.')
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
  if (RANK[target] < RANK[status]) return refuse(`${id} is already ${status}; it cannot be ${target} now.`, 'Run opsctl incident status to see where it stands.')
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

function optionalText<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  const text = textOf(value)
  return text === undefined ? {} : ({ [key]: text } as Record<K, string>)
}

function readAlerts(value: unknown): AlertRecord[] {
  if (!Array.isArray(value)) return []
  const alerts: AlertRecord[] = []
  for (const item of value) {
    if (item === null || typeof item !== 'object') continue
    const record = item as Record<string, unknown>
    const name = textOf(record.name)
    if (!name) continue
    alerts.push({
      name,
      ...optionalText('severity', record.severity),
      ...optionalText('service', record.service),
      ...optionalText('summary', record.summary),
      ...optionalText('startsAt', record.startsAt),
    })
  }
  return alerts
}
