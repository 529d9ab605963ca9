/**
 * How an incident's timelines word each event: `incident status` and the post-mortem both read
 * this, and it reads the kinds' own summaries (events.ts, through the journal's
 * summarizeEventData), so an event reads the same in the journal listing, the status and the
 * post-mortem. Pure.
 */
import { redactValue } from '../core/index.js'
import { summarizeEvent, summarizeEventData, type JournalEvent } from '../journal/index.js'
import { incidentEvents } from './events.js'
import type { AlertState } from './state.js'

/** The incident's own events: its timelines show them whole, in the journal's wording. */
export function isIncidentKind(kind: string): boolean {
  return kind.startsWith('incident.') || kind === 'runbook.step'
}

/**
 * The journal's wording of an event. The incident's own events are given whole (a note keeps its
 * lines: it is the record, not a line), with what a reader needs on top (who a commander is, the
 * command a step ran); other journal events are the journal's one-line summary, without the link
 * back to this incident.
 */
export function describeEvent(raw: JournalEvent, incidentId: string): string {
  // Redacted value by value before it is worded: a kind without a summary is shown as JSON, whose escaped quotes would hide a secret from redaction.
  const event = redactValue(raw)
  if (isIncidentKind(event.kind)) {
    // An acknowledgement that names nobody was made by its actor.
    const data = incidentEvents.acknowledged.is(event) && !event.data.by ? { ...event.data, by: event.actor } : event.data
    const wording = summarizeEventData(event.kind, data)
    if (wording !== undefined) return wording + detailOf(event)
  }
  const summary = summarizeEvent({
    ...event,
    links: Object.fromEntries(Object.entries(event.links).filter(([name, value]) => name !== 'incident' || value !== incidentId)),
  })
  return summary || event.kind
}

function detailOf(event: JournalEvent): string {
  const { commander, command } = event.data
  if (incidentEvents.opened.is(event) && typeof commander === 'string' && commander) return ` (commander ${commander})`
  if (event.kind === 'runbook.step' && typeof command === 'string' && command) return `: ${firstLine(command)}`
  return ''
}

function firstLine(text: string): string {
  const [first, ...rest] = text.split('\n')
  return rest.length > 0 ? `${first} …` : (first ?? '')
}

/** Changes in the journal that a post-mortem points at; `mitigating` ones are part of the response, not suspects. */
export type Highlight = 'deploy' | 'flag change' | 'canary failed' | 'gate failed' | 'rollback' | 'flag kill'

export const MITIGATING: readonly Highlight[] = ['rollback', 'flag kill']
export const SIGNALS: readonly Highlight[] = ['canary failed', 'gate failed']

export function highlightOf(event: JournalEvent): Highlight | undefined {
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

/**
 * What tells an alert apart from the others of the same name in the incident: the labels whose
 * values differ between them (`instance=api-2:3000`), else its fingerprint.
 */
export function alertInstance(alert: AlertState, all: readonly AlertState[]): string {
  const twins = all.filter((other) => other.name === alert.name)
  if (twins.length < 2) return ''
  const labels = alert.labels ?? {}
  const differing = Object.keys(labels)
    .filter((key) => key !== 'alertname' && twins.some((other) => (other.labels ?? {})[key] !== labels[key]))
    .sort()
    .map((key) => `${key}=${labels[key]}`)
  return differing.length ? differing.join(', ') : alert.fingerprint
}
