/**
 * The journal side of incidents: read the incident events, replay them, check the action
 * against the replayed state, append one event. Nothing else is stored, so two responders on
 * two terminals (or two machines sharing a PostgreSQL journal) see the same incident.
 */
import { readFileSync } from 'node:fs'
import { badInput, fixedClock, systemClock, type Clock, type Settings } from '../core/index.js'
import { createIdGenerator, eventContext, openJournal, parseTimeBound, recordEvent, type JournalEvent, type JournalStore } from '../journal/index.js'
import { declarationFromPayload, parseAlertmanagerPayload, cleanText, type AlertmanagerDeclaration } from './alertmanager.js'
import { findIncidentByRef, incidentIdFor } from './incident-id.js'
import { computeMetrics, type IncidentMetric } from './metrics.js'
import { matchRunbooks, matchRunbooksByText, type RunbookMatch } from './runbook-match.js'
import { loadRunbookLibrary } from './runbooks.js'
import { formatProblem, type Runbook } from './runbook-format.js'
import { ACTION_KINDS, isTerminal, planTransition, replayIncident, replayIncidents, parseActionItems, type Incident, type IncidentAction, type Replay } from './state.js'
import type { Severity } from './severity.js'

export interface IncidentOptions {
  clock?: Clock
  env?: NodeJS.ProcessEnv
  /** Diagnostics (broken runbooks, already-open incidents) for stderr. */
  note?: (message: string) => void
}

const INCIDENT_KINDS = ['incident', 'runbook']

/** Every incident in the journal, replayed. */
export async function readIncidents(store: JournalStore): Promise<Replay> {
  const events: JournalEvent[] = []
  for await (const event of store.read({ kinds: INCIDENT_KINDS })) events.push(event)
  return replayIncidents(events)
}

async function withJournal<T>(settings: Settings, work: (store: JournalStore) => Promise<T>): Promise<T> {
  const store = await openJournal(settings)
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}

/** The incident a command acts on: the one given, or the only open one. */
export function selectIncident(incidents: readonly Incident[], ref: string | undefined): Incident {
  if (ref !== undefined) return findIncidentByRef(incidents, ref)
  const open = incidents.filter((incident) => !isTerminal(incident.status))
  if (open.length === 1) return open[0]!
  if (open.length === 0) throw badInput('No open incident', 'Declare one with opsctl incident start "title" --sev N, or give the id of a closed one (opsctl incident list).')
  throw badInput(`${open.length} incidents are open: ${open.map((incident) => incident.id).join(', ')}`, 'Say which one: give its id (or --incident ID).')
}

// --- start -----------------------------------------------------------------------------------

export interface StartRequest {
  title?: string
  severity?: Severity
  service?: string
  commander?: string
  /** --impact-started: an ISO time or a duration back from now (15m). */
  impactStarted?: string
  /** --from-alertmanager FILE, or - for stdin (its text then comes in `alertmanagerText`). */
  alertmanagerFile?: string
  alertmanagerText?: string
}

export interface StartResult {
  incident: Incident
  /** false when the same Alertmanager group already had an open incident. */
  created: boolean
  runbooks: RunbookMatch[]
  severitySource: string
  alerts?: AlertmanagerDeclaration['alerts']
}

export async function startIncident(settings: Settings, request: StartRequest, options: IncidentOptions = {}): Promise<StartResult> {
  const clock = options.clock ?? systemClock
  const now = clock.now()
  let declaration: AlertmanagerDeclaration | undefined
  if (request.alertmanagerFile !== undefined) {
    const file = request.alertmanagerFile === '-' ? 'stdin' : request.alertmanagerFile
    const text = request.alertmanagerText ?? readPayloadFile(request.alertmanagerFile)
    declaration = declarationFromPayload(parseAlertmanagerPayload(text, file), file)
  }
  const title = request.title !== undefined ? cleanText(request.title, 200) : declaration?.title
  if (!title) throw badInput('An incident needs a title', 'opsctl incident start "Checkout returns 500s" --sev 2')
  const severity = request.severity ?? declaration?.severity
  if (!severity) throw badInput('An incident needs a severity: --sev 1 to 5', 'SEV1 is the worst; opsctl incident start --help has the definitions.')
  const severitySource = request.severity ? '--sev' : (declaration?.severitySource ?? '--sev')
  const service = request.service?.trim() || declaration?.service
  let impactStartedAt = declaration?.impactStartedAt
  if (request.impactStarted !== undefined) impactStartedAt = new Date(parseTimeBound(request.impactStarted, fixedClock(now), 'impact-started')).toISOString()
  if (impactStartedAt && Date.parse(impactStartedAt) > now.getTime() + 60_000) {
    throw badInput(`The impact start ${impactStartedAt} is in the future`, 'Give when users started to be hurt: an ISO time, or a duration back from now such as 15m.')
  }

  // Runbooks help; a broken runbook directory must never stop an incident from being declared.
  let known: Runbook[] = []
  try {
    const library = loadRunbookLibrary(settings)
    for (const problem of library.broken) options.note?.(`Skipped a broken runbook: ${formatProblem(problem)}`)
    known = library.runbooks
  } catch (error) {
    options.note?.(`Runbooks not matched: ${(error as Error).message}`)
  }
  const runbooks = declaration ? matchRunbooks(declaration.alerts, known) : matchRunbooksByText(title, service, known)

  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    if (declaration?.groupKey) {
      const same = incidents.find((incident) => !isTerminal(incident.status) && incident.alertGroupKey === declaration!.groupKey)
      if (same) return { incident: same, created: false, runbooks, severitySource, alerts: declaration.alerts }
    }
    const eventId = createIdGenerator().next(now.getTime())
    const id = incidentIdFor(eventId, new Set(incidents.map((incident) => incident.id.toUpperCase())))
    const data: Record<string, unknown> = {
      title,
      severity,
      ...(service ? { service } : {}),
      ...(request.commander?.trim() ? { commander: request.commander.trim() } : {}),
      ...(impactStartedAt ? { impactStartedAt } : {}),
      source: declaration ? 'alertmanager' : 'cli',
      ...(declaration
        ? {
            alerts: declaration.alerts.map(({ labels: _labels, annotations: _annotations, ...alert }) => alert),
            ...(declaration.groupKey ? { alertGroupKey: declaration.groupKey } : {}),
            ...(declaration.externalURL ? { alertmanagerUrl: declaration.externalURL } : {}),
          }
        : {}),
      ...(runbooks.length ? { runbooks: runbooks.map((match) => match.id) } : {}),
    }
    const event = await recordEvent(store, { id: eventId, kind: 'incident.opened', subject: id, links: { incident: id }, data }, { clock, env: options.env })
    const incident = replayIncident(id, [event])!
    return { incident, created: true, runbooks, severitySource, ...(declaration ? { alerts: declaration.alerts } : {}) }
  })
}

function readPayloadFile(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw badInput(`Cannot read the Alertmanager payload ${file}: ${(error as Error).message}`, 'Give a file with the webhook JSON, or - to read it from stdin.')
  }
}

// --- transitions, notes, roles ------------------------------------------------------------------

export interface ActionRequest {
  incident?: string
  action: IncidentAction
  /** mitigate/resolve: what was done; cancel: why. */
  text?: string
  /** acknowledge: who takes it (default: the journal's actor). */
  by?: string
}

export interface ActionResult {
  incident: Incident
  written: boolean
  message: string
}

export async function actOnIncident(settings: Settings, request: ActionRequest, options: IncidentOptions = {}): Promise<ActionResult> {
  const actor = eventContext({ env: options.env }).actor
  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, request.incident)
    const by = request.by?.trim() || actor
    const plan = planTransition(incident, request.action, by)
    if (!plan.write) return { incident, written: false, message: plan.message }
    const text = request.text?.trim()
    const data: Record<string, unknown> =
      request.action === 'acknowledge' ? { by } : request.action === 'cancel' ? (text ? { reason: text } : {}) : text ? { summary: text } : {}
    const event = await recordEvent(store, { kind: ACTION_KINDS[request.action], subject: incident.id, links: { incident: incident.id }, data }, options)
    const after = replayIncident(incident.id, [...incident.events, event])!
    return { incident: after, written: true, message: `${incident.id} ${after.status}.` }
  })
}

export interface NoteResult {
  incident: Incident
  eventId: string
  actionItems: Array<{ text: string; owner?: string }>
}

export async function logIncidentNote(settings: Settings, request: { incident?: string; message: string; owner?: string }, options: IncidentOptions = {}): Promise<NoteResult> {
  const message = request.message.trim()
  if (!message) throw badInput('An empty note', 'opsctl incident log "Rolled back to v41; errors dropping" (a line starting TODO: becomes an action item).')
  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, request.incident)
    const owner = request.owner?.trim()
    const event = await recordEvent(
      store,
      { kind: 'incident.note', subject: incident.id, links: { incident: incident.id }, data: { message, ...(owner ? { owner } : {}) } },
      options,
    )
    return { incident: replayIncident(incident.id, [...incident.events, event])!, eventId: event.id, actionItems: parseActionItems(message, owner) }
  })
}

export const KNOWN_ROLES = ['commander', 'scribe', 'communications', 'operations', 'subject-matter-expert', 'liaison'] as const

export async function assignIncidentRole(
  settings: Settings,
  request: { incident?: string; role: string; person: string },
  options: IncidentOptions = {},
): Promise<{ incident: Incident; role: string; person: string }> {
  const role = request.role.trim().toLowerCase()
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(role)) throw badInput(`Invalid role "${request.role}"`, `A role is one word: ${KNOWN_ROLES.join(', ')}, or your own.`)
  const person = cleanText(request.person, 120)
  if (!person) throw badInput('A role needs a person', 'opsctl incident role commander alice')
  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, request.incident)
    const event = await recordEvent(store, { kind: 'incident.role', subject: incident.id, links: { incident: incident.id }, data: { role, person } }, options)
    return { incident: replayIncident(incident.id, [...incident.events, event])!, role, person }
  })
}

// --- reading -----------------------------------------------------------------------------------

export interface IncidentStatusReport {
  incident: Incident
  metrics: IncidentMetric[]
}

export async function incidentStatus(settings: Settings, ref: string | undefined): Promise<IncidentStatusReport> {
  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, ref)
    return { incident, metrics: computeMetrics(incident) }
  })
}

export interface IncidentListing {
  incidents: Array<Omit<Incident, 'events'> & { events: number }>
  orphans: Replay['orphans']
  total: number
}

export async function listIncidents(settings: Settings, options: { open?: boolean; limit?: number } = {}): Promise<IncidentListing> {
  return withJournal(settings, async (store) => {
    const replay = await readIncidents(store)
    const chosen = replay.incidents.filter((incident) => !options.open || !isTerminal(incident.status)).reverse()
    const limited = options.limit ? chosen.slice(0, options.limit) : chosen
    return { incidents: limited.map((incident) => ({ ...incident, events: incident.events.length })), orphans: replay.orphans, total: chosen.length }
  })
}
