/**
 * The journal side of incidents: read the incident events, replay them, check the action
 * against the replayed state, append one event. Nothing else is stored, so two responders on
 * two terminals (or two machines sharing a PostgreSQL journal) see the same incident.
 */
import { readFileSync } from 'node:fs'
import { badInput, fixedClock, systemClock, type Clock, type Settings } from '../core/index.js'
import {
  createIdGenerator,
  eventContext,
  openJournal,
  parseTimeBound,
  recordEvent,
  type EventData,
  type JournalEvent,
  type JournalStore,
} from '../journal/index.js'
import { planDelivery } from './alert-group.js'
import { cleanText, parseAlertmanagerPayload, type AlertDelivery } from './alertmanager.js'
import { ACTION_ITEM_TYPES, incidentEvents } from './events.js'
import { findIncidentByRef, incidentIdFor } from './incident-id.js'
import { INCIDENT_KINDS, type IncidentCache } from './incident-cache.js'
import { computeMetrics, type IncidentMetric } from './metrics.js'
import { matchRunbooks, matchRunbooksByText, type RunbookMatch } from './runbook-match.js'
import { loadRunbookLibrary } from './runbooks.js'
import { formatProblem, type Runbook } from './runbook-format.js'
import { severityRank, type Severity, type SeverityMapping } from './severity.js'
import {
  ACTION_KINDS,
  isTerminal,
  planTransition,
  replayIncident,
  replayIncidents,
  parseActionItems,
  type ActionItem,
  type ActionItemType,
  type Incident,
  type IncidentAction,
  type Replay,
} from './state.js'

export interface IncidentOptions {
  clock?: Clock
  env?: NodeJS.ProcessEnv
  /** Diagnostics (broken runbooks, already-open incidents) for stderr. */
  note?: (message: string) => void
}

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
  if (open.length === 0)
    throw badInput(
      'No open incident',
      'Declare one with opsctl incident start "title" --sev N, or give the id of a closed one (opsctl incident list).',
    )
  throw badInput(
    `${open.length} incidents are open: ${open.map((incident) => incident.id).join(', ')}`,
    'Say which one: give its id (or --incident ID).',
  )
}

// --- start and alert deliveries ------------------------------------------------------------------

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

/** What a delivery did: opened an incident, appended alerts to one, or nothing (already recorded). */
export type DeliveryOutcome = 'opened' | 'appended' | 'unchanged'

export interface DeliveryResult {
  /** Undefined only when a delivery of resolved alerts found no incident. */
  incident?: Incident
  /** true when this call declared the incident. */
  created: boolean
  outcome: DeliveryOutcome
  /** Why, in a few words: "a new alert group", "1 new alert", "a repeat or a redelivery". */
  reason?: string
  runbooks: RunbookMatch[]
  /** Which flag or label gave the severity. */
  severitySource?: string
  /** Events written, in order (the declaration, alerts, an automatic mitigation). */
  eventIds: string[]
}

export interface StartResult extends DeliveryResult {
  incident: Incident
}

export async function startIncident(settings: Settings, request: StartRequest, options: IncidentOptions = {}): Promise<StartResult> {
  const clock = options.clock ?? systemClock
  const now = clock.now()
  if (request.alertmanagerFile !== undefined) {
    const file = request.alertmanagerFile === '-' ? 'stdin' : request.alertmanagerFile
    const text = request.alertmanagerText ?? readPayloadFile(request.alertmanagerFile)
    const delivery = parseAlertmanagerPayload(text, file)
    const result = await withJournal(settings, (store) => deliverAlerts(settings, store, delivery, { ...options, overrides: request }))
    if (!result.incident)
      throw badInput(
        `${file}: nothing recorded: ${result.reason ?? 'no incident for these alerts'}`,
        'Declare an incident from a payload with firing alerts, or by hand with opsctl incident start "title" --sev N.',
      )
    return { ...result, incident: result.incident }
  }
  const title = request.title !== undefined ? cleanText(request.title, 200) : undefined
  if (!title) throw badInput('An incident needs a title', 'opsctl incident start "Checkout returns 500s" --sev 2')
  const severity = request.severity
  if (!severity)
    throw badInput(
      'An incident needs a severity: --sev 1 to 5 (or critical, major, minor, low, informational)',
      'SEV1 is the worst; opsctl incident start --help has the definitions.',
    )
  const service = request.service?.trim() || undefined
  const impactStartedAt = request.impactStarted === undefined ? undefined : impactStartOf(request.impactStarted, now)
  const runbooks = matchRunbooksByText(title, service, knownRunbooks(settings, options))
  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    const data: EventData<typeof incidentEvents.opened> = {
      title,
      severity,
      severityReason: '--sev',
      ...(service ? { service } : {}),
      ...(request.commander?.trim() ? { commander: request.commander.trim() } : {}),
      ...(impactStartedAt ? { impactStartedAt } : {}),
      source: 'cli',
      ...(runbooks.length ? { runbooks: runbooks.map((match) => match.id) } : {}),
    }
    const event = await declareIncident(store, incidents, data, { ...options, clock, at: now })
    return {
      incident: replayIncident(event.subject, [event])!,
      created: true,
      outcome: 'opened',
      runbooks,
      severitySource: '--sev',
      eventIds: [event.id],
    }
  })
}

/** An impact start from a flag: an ISO time or a duration back from now; never in the future. */
function impactStartOf(text: string, now: Date): string {
  const at = new Date(parseTimeBound(text, fixedClock(now), 'impact-started')).toISOString()
  if (Date.parse(at) > now.getTime() + 60_000) {
    throw badInput(
      `The impact start ${at} is in the future`,
      'Give when users started to be hurt: an ISO time, or a duration back from now such as 15m.',
    )
  }
  return at
}

/** Runbooks help; a broken runbook directory must never stop an incident from being declared. */
function knownRunbooks(settings: Settings, options: IncidentOptions): Runbook[] {
  try {
    const library = loadRunbookLibrary(settings)
    for (const problem of library.broken) options.note?.(`Skipped a broken runbook: ${formatProblem(problem)}`)
    return library.runbooks
  } catch (error) {
    options.note?.(`Runbooks not matched: ${(error as Error).message}`)
    return []
  }
}

async function declareIncident(
  store: JournalStore,
  incidents: readonly Incident[],
  data: EventData<typeof incidentEvents.opened>,
  options: IncidentOptions & { actor?: string; at?: Date },
): Promise<JournalEvent> {
  const clock = options.clock ?? systemClock
  // The declaration's time is the one its impact start was measured back from.
  const eventId = createIdGenerator().next((options.at ?? clock.now()).getTime())
  const id = incidentIdFor(eventId, new Set(incidents.map((incident) => incident.id.toUpperCase())))
  return recordEvent(
    store,
    {
      id: eventId,
      kind: incidentEvents.opened.kind,
      subject: id,
      links: { incident: id },
      data,
      ...(options.actor ? { actor: options.actor } : {}),
    },
    { clock, env: options.env },
  )
}

export interface DeliveryOptions extends IncidentOptions {
  /** Who the journal names for what the integration writes (the receiver's actor); default: whoever runs the command. */
  actor?: string
  /** `webhook`: written by the receiver, not by a person. */
  via?: 'webhook'
  /** A person's title, severity, service, commander or impact start for a group that opens an incident. */
  overrides?: StartRequest
  /** A long-running receiver's incidents, read incrementally; default: the whole journal, read now. */
  cache?: IncidentCache
}

/**
 * One Alertmanager delivery against the journal: the plan (alert-group.ts) on the incidents as
 * replayed now, then at most one event for the alerts and, when configured and every alert of the
 * incident has resolved, the integration's mitigation. A redelivery writes nothing.
 */
export async function deliverAlerts(
  settings: Settings,
  store: JournalStore,
  delivery: AlertDelivery,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const clock = options.clock ?? systemClock
  const mapping = severityMappingOf(settings)
  const cache = options.cache
  const read = () => (cache ? cache.read(store) : readIncidents(store))
  const { incidents } = await read()
  const plan = planDelivery(incidents, delivery, mapping)
  const actor = options.actor ? { actor: options.actor } : {}
  const record = { clock, env: options.env }
  const via = options.via ? { via: options.via } : {}

  if (plan.action === 'open') {
    const overrides = options.overrides ?? {}
    const declaration = plan.declaration
    const runbooks = matchRunbooks(
      declaration.alerts.filter((alert) => alert.status === 'firing'),
      knownRunbooks(settings, options),
    )
    const title = overrides.title !== undefined ? cleanText(overrides.title, 200) : declaration.title
    const service = overrides.service?.trim() || declaration.service
    const now = clock.now()
    const impactStartedAt = overrides.impactStarted === undefined ? undefined : impactStartOf(overrides.impactStarted, now)
    const severityReason = overrides.severity ? `--sev (the alerts said: ${declaration.severityReason})` : declaration.severityReason
    const data: EventData<typeof incidentEvents.opened> = {
      title: title || declaration.title,
      severity: overrides.severity ?? declaration.severity,
      severityReason,
      ...(service ? { service } : {}),
      ...(overrides.commander?.trim() ? { commander: overrides.commander.trim() } : {}),
      ...(impactStartedAt ? { impactStartedAt } : {}),
      source: 'alertmanager',
      ...via,
      alerts: declaration.alerts,
      ...(declaration.alertsOmitted ? { alertsOmitted: declaration.alertsOmitted } : {}),
      ...(declaration.alertGroupKey ? { alertGroupKey: declaration.alertGroupKey } : {}),
      groupLabels: declaration.groupLabels,
      ...(declaration.alertmanagerUrl ? { alertmanagerUrl: declaration.alertmanagerUrl } : {}),
      ...(runbooks.length ? { runbooks: runbooks.map((match) => match.id) } : {}),
    }
    const event = await declareIncident(store, incidents, data, { ...options, clock, at: now, ...actor })
    cache?.add(event)
    const incident = replayIncident(event.subject, [event])!
    return {
      incident,
      created: true,
      outcome: 'opened',
      reason: plan.reason,
      runbooks,
      severitySource: severityReason,
      eventIds: [event.id],
    }
  }

  if (plan.action === 'unchanged') {
    // An automatic mitigation that a failed write left undone is done on the next delivery.
    const eventIds = plan.incident ? await mitigateWhenAlertsResolved(settings, store, plan.incident, { ...record, ...actor, cache }) : []
    const incident = eventIds.length && plan.incident ? findIncidentByRef((await read()).incidents, plan.incident.id) : plan.incident
    return { ...(incident ? { incident } : {}), created: false, outcome: 'unchanged', reason: plan.reason, runbooks: [], eventIds }
  }

  const event = await recordEvent(
    store,
    {
      kind: incidentEvents.alerts.kind,
      subject: plan.incident.id,
      links: { incident: plan.incident.id },
      data: {
        firing: plan.firing,
        resolved: plan.resolved,
        ...(plan.alertsOmitted ? { alertsOmitted: plan.alertsOmitted } : {}),
        ...(delivery.groupKey ? { alertGroupKey: delivery.groupKey } : {}),
      },
      ...actor,
    },
    record,
  )
  cache?.add(event)
  let incident = replayIncident(plan.incident.id, [...plan.incident.events, event])!
  const eventIds = [event.id, ...(await mitigateWhenAlertsResolved(settings, store, incident, { ...record, ...actor, cache }))]
  if (eventIds.length > 1) incident = findIncidentByRef((await read()).incidents, incident.id)
  return { incident, created: false, outcome: 'appended', reason: plan.reason, runbooks: [], eventIds }
}

/** incident.mitigateWhenAlertsResolve: the integration marks it mitigated once every alert has resolved; a person resolves it. */
async function mitigateWhenAlertsResolved(
  settings: Settings,
  store: JournalStore,
  incident: Incident,
  options: { clock: Clock; env?: NodeJS.ProcessEnv; actor?: string; cache?: IncidentCache | undefined },
): Promise<string[]> {
  if (!settings.config.incident.mitigateWhenAlertsResolve) return []
  if (!incident.alertsResolvedAt || incident.status === 'mitigated' || isTerminal(incident.status)) return []
  const event = await recordEvent(
    store,
    {
      kind: incidentEvents.mitigated.kind,
      subject: incident.id,
      links: { incident: incident.id },
      data: { summary: `every alert resolved (last at ${incident.alertsResolvedAt})`, automatic: true },
      ...(options.actor ? { actor: options.actor } : {}),
    },
    { clock: options.clock, env: options.env },
  )
  options.cache?.add(event)
  return [event.id]
}

/** How alert labels map to severities, from the config section `incident`. */
export function severityMappingOf(settings: Settings): SeverityMapping {
  const section = settings.config.incident
  return { label: section.severityLabel, values: section.severities, unlabelled: section.unlabelledSeverity }
}

function readPayloadFile(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw badInput(
      `Cannot read the Alertmanager payload ${file}: ${(error as Error).message}`,
      'Give a file with the webhook JSON, or - to read it from stdin.',
    )
  }
}

// --- update ------------------------------------------------------------------------------------

export interface UpdateRequest {
  incident?: string
  severity?: Severity
  title?: string
  /** An ISO time or a duration back from now. */
  impactStarted?: string
  reason?: string
}

export interface UpdateResult {
  incident: Incident
  written: boolean
  /** What changed, one line each; empty when nothing did. */
  changes: string[]
}

/** Raise or lower the severity, retitle, correct the start of impact: one incident.updated event with from, to and why. */
export async function updateIncident(settings: Settings, request: UpdateRequest, options: IncidentOptions = {}): Promise<UpdateResult> {
  const clock = options.clock ?? systemClock
  if (request.severity === undefined && request.title === undefined && request.impactStarted === undefined)
    throw badInput('Nothing to update', 'Give --sev, --title or --impact-started (and --reason to say why).')
  const title = request.title === undefined ? undefined : cleanText(request.title, 200)
  if (title === '') throw badInput('An empty title', 'opsctl incident update --title "Checkout returns 500s for EU users"')
  const impactStartedAt = request.impactStarted === undefined ? undefined : impactStartOf(request.impactStarted, clock.now())
  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, request.incident)
    const data: EventData<typeof incidentEvents.updated> = {}
    const changes: string[] = []
    if (request.severity && request.severity !== incident.severityText) {
      data.severity = { ...(incident.severityText ? { from: incident.severityText } : {}), to: request.severity }
      const worse = incident.severity && severityRank(request.severity) < severityRank(incident.severity)
      changes.push(
        `severity ${incident.severityText || '?'} → ${request.severity}${incident.severity ? (worse ? ' (raised)' : ' (lowered)') : ''}`,
      )
    }
    if (title && title !== incident.title) {
      data.title = { from: incident.title, to: title }
      changes.push(`title "${incident.title}" → "${title}"`)
    }
    if (impactStartedAt && impactStartedAt !== incident.impactStartedAt) {
      data.impactStartedAt = { ...(incident.impactStartedAt ? { from: incident.impactStartedAt } : {}), to: impactStartedAt }
      changes.push(`impact start ${incident.impactStartedAt ?? 'not recorded'} → ${impactStartedAt}`)
    }
    if (changes.length === 0) return { incident, written: false, changes }
    const reason = request.reason?.trim()
    if (reason) data.reason = reason
    const event = await recordEvent(
      store,
      { kind: incidentEvents.updated.kind, subject: incident.id, links: { incident: incident.id }, data },
      { clock, env: options.env },
    )
    return { incident: replayIncident(incident.id, [...incident.events, event])!, written: true, changes }
  })
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
      request.action === 'acknowledge'
        ? { by }
        : request.action === 'cancel'
          ? text
            ? { reason: text }
            : {}
          : text
            ? { summary: text }
            : {}
    const event = await recordEvent(
      store,
      { kind: ACTION_KINDS[request.action], subject: incident.id, links: { incident: incident.id }, data },
      options,
    )
    const after = replayIncident(incident.id, [...incident.events, event])!
    return { incident: after, written: true, message: `${incident.id} ${after.status}.` }
  })
}

export interface NoteResult {
  incident: Incident
  eventId: string
  actionItems: Array<Omit<ActionItem, 'at' | 'by' | 'eventId'>>
}

export interface NoteRequest {
  incident?: string
  message: string
  /** For the TODO: lines that name none. */
  owner?: string
  priority?: string
  type?: string
}

export async function logIncidentNote(settings: Settings, request: NoteRequest, options: IncidentOptions = {}): Promise<NoteResult> {
  // Lines are kept as written (a pasted stack trace, a list); only trailing blank space goes.
  const message = request.message
    .replace(/\r\n?/g, '\n')
    .replace(/\s+$/, '')
    .replace(/^\s*\n/, '')
  if (!message.trim())
    throw badInput(
      'An empty note',
      'opsctl incident log "Rolled back to v41; errors dropping" (a line starting TODO: becomes an action item).',
    )
  const priority = request.priority?.trim().toUpperCase()
  if (priority !== undefined && !/^P[0-4]$/.test(priority))
    throw badInput(`Invalid priority "${request.priority}"`, 'Give P0 (most urgent) to P4.')
  const type = request.type?.trim().toLowerCase()
  if (type !== undefined && !(ACTION_ITEM_TYPES as readonly string[]).includes(type))
    throw badInput(`Invalid action item type "${request.type}"`, `Give one of ${ACTION_ITEM_TYPES.join(', ')}.`)
  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, request.incident)
    const owner = request.owner?.trim()
    const data: EventData<typeof incidentEvents.note> = {
      message,
      ...(owner ? { owner } : {}),
      ...(priority ? { priority } : {}),
      ...(type ? { type: type as ActionItemType } : {}),
    }
    const event = await recordEvent(
      store,
      { kind: incidentEvents.note.kind, subject: incident.id, links: { incident: incident.id }, data },
      options,
    )
    return {
      incident: replayIncident(incident.id, [...incident.events, event])!,
      eventId: event.id,
      actionItems: parseActionItems(message, data),
    }
  })
}

export const KNOWN_ROLES = ['commander', 'scribe', 'communications', 'operations', 'subject-matter-expert', 'liaison'] as const

export async function assignIncidentRole(
  settings: Settings,
  request: { incident?: string; role: string; person: string },
  options: IncidentOptions = {},
): Promise<{ incident: Incident; role: string; person: string }> {
  const role = request.role.trim().toLowerCase()
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(role))
    throw badInput(`Invalid role "${request.role}"`, `A role is one word: ${KNOWN_ROLES.join(', ')}, or your own.`)
  const person = cleanText(request.person, 120)
  if (!person) throw badInput('A role needs a person', 'opsctl incident role commander alice')
  return withJournal(settings, async (store) => {
    const { incidents } = await readIncidents(store)
    const incident = selectIncident(incidents, request.incident)
    const event = await recordEvent(
      store,
      { kind: incidentEvents.role.kind, subject: incident.id, links: { incident: incident.id }, data: { role, person } },
      options,
    )
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
    return {
      incidents: limited.map((incident) => ({ ...incident, events: incident.events.length })),
      orphans: replay.orphans,
      total: chosen.length,
    }
  })
}
