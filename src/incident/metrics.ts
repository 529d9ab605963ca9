/**
 * The response figures, from timestamps only. Each names the two points it spans so that the
 * post-mortem can say exactly what was measured, and says why when it cannot be computed.
 */
import type { Incident } from './state.js'

export type MetricName = 'timeToDetect' | 'timeToAcknowledge' | 'timeToMitigate' | 'timeToRecover'

export interface IncidentMetric {
  name: MetricName
  label: string
  definition: string
  from?: { point: string; at: string }
  to?: { point: string; at: string }
  /** Milliseconds; absent when one of the points is not recorded. */
  ms?: number
  /** Why it is absent, or how it was measured when a point had to stand in for another. */
  note?: string
}

export const METRIC_DEFINITIONS: ReadonlyArray<{ name: MetricName; label: string; definition: string }> = [
  {
    name: 'timeToDetect',
    label: 'Time to detect',
    definition:
      "From the start of impact to the declaration of the incident. The start of impact is the one a person gave (--impact-started, or corrected with incident update); without one, the alert's startsAt, which Prometheus sets when the rule fires, after its for: window: the impact began that much earlier, so this figure is short by up to the rule's for: duration.",
  },
  {
    name: 'timeToAcknowledge',
    label: 'Time to acknowledge',
    definition: 'From the declaration to the first acknowledgement (incident ack).',
  },
  {
    name: 'timeToMitigate',
    label: 'Time to mitigate',
    definition:
      "From the start of impact (the alert's startsAt when no person gave one) to the mitigation (incident mitigate: users no longer hurt). Without either start, from the declaration; without a mitigation, to the resolution.",
  },
  {
    name: 'timeToRecover',
    label: 'Time to recover',
    definition:
      "From the start of impact (the alert's startsAt when no person gave one) to the resolution (incident resolve: the cause fixed, service restored). Without either start, from the declaration.",
  },
]

function definitionOf(name: MetricName) {
  return METRIC_DEFINITIONS.find((entry) => entry.name === name)!
}

function span(name: MetricName, from: IncidentMetric['from'], to: IncidentMetric['to'], note?: string): IncidentMetric {
  const { label, definition } = definitionOf(name)
  const metric: IncidentMetric = { name, label, definition }
  if (from) metric.from = from
  if (to) metric.to = to
  if (from && to) metric.ms = Date.parse(to.at) - Date.parse(from.at)
  if (note) metric.note = note
  return metric
}

/** Where impact is measured from: the start a person gave, else the alerts' earliest startsAt, else the declaration. */
export function impactOrigin(incident: Incident): { point: string; at: string; given: boolean } {
  if (incident.impactStartedAt) return { point: 'impact start', at: incident.impactStartedAt, given: true }
  if (incident.alertsStartedAt) return { point: 'alert startsAt', at: incident.alertsStartedAt, given: false }
  return { point: 'declaration', at: incident.openedAt, given: false }
}

const FROM_ALERT = "measured from the alert's startsAt: impact began earlier, by up to the rule's for: window"

export function computeMetrics(incident: Incident): IncidentMetric[] {
  const declared = { point: 'declaration', at: incident.openedAt }
  const origin = impactOrigin(incident)
  const impact = origin.point === 'declaration' ? undefined : { point: origin.point, at: origin.at }
  const start = impact ?? declared
  const startNote = impact ? (origin.given ? undefined : FROM_ALERT) : 'impact start not recorded: measured from the declaration'
  const cancelled = incident.status === 'cancelled' ? 'the incident was cancelled' : undefined

  const detect = span(
    'timeToDetect',
    impact,
    declared,
    impact
      ? origin.given
        ? undefined
        : FROM_ALERT
      : 'impact start not recorded (incident start --impact-started, or incident update --impact-started)',
  )

  const acknowledged = incident.acknowledgedAt ? { point: 'acknowledgement', at: incident.acknowledgedAt } : undefined
  const acknowledge = span('timeToAcknowledge', declared, acknowledged, acknowledged ? undefined : 'not acknowledged')

  let mitigate: IncidentMetric
  if (incident.mitigatedAt)
    mitigate = span(
      'timeToMitigate',
      start,
      { point: incident.mitigatedAutomatically ? 'mitigation (every alert resolved)' : 'mitigation', at: incident.mitigatedAt },
      startNote,
    )
  else if (incident.resolvedAt) {
    mitigate = span(
      'timeToMitigate',
      start,
      { point: 'resolution', at: incident.resolvedAt },
      joinNotes(startNote, 'no mitigation recorded: measured to the resolution'),
    )
  } else mitigate = span('timeToMitigate', undefined, undefined, cancelled ?? 'not mitigated yet')

  const recover = incident.resolvedAt
    ? span('timeToRecover', start, { point: 'resolution', at: incident.resolvedAt }, startNote)
    : span('timeToRecover', undefined, undefined, cancelled ?? 'not resolved yet')

  return [detect, acknowledge, mitigate, recover]
}

function joinNotes(...notes: Array<string | undefined>): string {
  return notes.filter(Boolean).join('; ')
}

/** `1h 02m 05s`, `4m 10s`, `12s`, `850ms`; negative spans (clock skew between writers) keep their sign. */
export function formatSpan(ms: number): string {
  const sign = ms < 0 ? '-' : ''
  const abs = Math.abs(ms)
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`
  const total = Math.round(abs / 1000)
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = total % 60
  const pad = (value: number) => String(value).padStart(2, '0')
  if (hours > 0) return `${sign}${hours}h ${pad(minutes)}m ${pad(seconds)}s`
  if (minutes > 0) return `${sign}${minutes}m ${pad(seconds)}s`
  return `${sign}${seconds}s`
}
