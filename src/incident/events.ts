import { z } from 'zod'
import { defineEvents, eventFields } from '../journal/index.js'

const { text, optional } = eventFields

const time = z.iso.datetime({ offset: true })
const strings = z.record(z.string(), z.string())

/**
 * One Alertmanager alert as the incident keeps it: identity (fingerprint, and startsAt: an alert
 * that fires again after resolving is a new firing), the context a responder needs (labels,
 * annotations, generatorURL), and its end once resolved. Redacted by the journal when written.
 */
export const alertRecordSchema = z.looseObject({
  name: text,
  // Optional for journals written before opsctl kept them: replay fills them in.
  fingerprint: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  startsAt: time.optional(),
  endsAt: time.optional(),
  severity: z.string().optional(),
  service: z.string().optional(),
  summary: z.string().optional(),
  labels: strings.optional(),
  annotations: strings.optional(),
  generatorURL: z.string().optional(),
})
export type AlertRecord = z.output<typeof alertRecordSchema>

/** An alert that resolved: which one, and when it ended. */
export const alertEndSchema = z.looseObject({ fingerprint: text, name: text, startsAt: time, endsAt: time })
export type AlertEnd = z.output<typeof alertEndSchema>

const ACTION_ITEM_TYPES = ['mitigate', 'prevent', 'detect', 'process'] as const
const actionItemSchema = z.looseObject({
  text,
  owner: z.string().optional(),
  priority: z.string().optional(),
  type: z.enum(ACTION_ITEM_TYPES).optional(),
})

function names(alerts: ReadonlyArray<{ name: string }>): string {
  const counts = new Map<string, number>()
  for (const alert of alerts) counts.set(alert.name, (counts.get(alert.name) ?? 0) + 1)
  return [...counts].map(([name, count]) => (count > 1 ? `${name} ×${count}` : name)).join(', ')
}

/** An incident's life on the journal; the incident's state is the replay of these (state.ts). */
export const incidentEvents = defineEvents('incident', {
  opened: {
    description: 'An incident was declared (its id goes in links.incident), by a person or from an Alertmanager group.',
    data: z.looseObject({
      title: text,
      severity: text,
      /** Why this severity: `--sev`, or which label value gave it. */
      severityReason: z.string().optional(),
      service: z.string().optional(),
      commander: z.string().optional(),
      /** Given by a person (--impact-started); the alerts' startsAt are kept apart. */
      impactStartedAt: time.optional(),
      source: z.string().optional(),
      alerts: z.array(alertRecordSchema).optional(),
      /** Alerts of the delivery left out to keep the event under the journal's size limit. */
      alertsOmitted: z.number().int().min(0).optional(),
      alertGroupKey: z.string().optional(),
      groupLabels: strings.optional(),
      alertmanagerUrl: z.string().optional(),
      runbooks: z.array(z.string()).optional(),
    }),
    summary: (d) => `declared ${d.severity}: ${d.title}${d.alerts?.length ? ` (alerts: ${names(d.alerts)})` : ''}`,
  },
  alerts: {
    description: "Alertmanager notified the incident's alert group again: alerts that started firing, alerts that resolved.",
    data: z.looseObject({
      firing: z.array(alertRecordSchema).default([]),
      resolved: z.array(alertEndSchema).default([]),
      alertsOmitted: z.number().int().min(0).optional(),
      alertGroupKey: z.string().optional(),
    }),
    summary: (d) =>
      [d.firing.length ? `firing: ${names(d.firing)}` : '', d.resolved.length ? `resolved: ${names(d.resolved)}` : '']
        .filter(Boolean)
        .join('; ') || 'alerts unchanged',
  },
  acknowledged: {
    description: 'Someone took the incident.',
    data: z.looseObject({ by: z.string().optional() }),
    summary: (d) => `acknowledged${optional('by ', d.by)}`,
  },
  updated: {
    description: 'The severity, title or start of impact was changed after the declaration (from and to, and why).',
    data: z.looseObject({
      severity: z.looseObject({ from: z.string().optional(), to: text }).optional(),
      title: z.looseObject({ from: z.string().optional(), to: text }).optional(),
      impactStartedAt: z.looseObject({ from: time.optional(), to: time }).optional(),
      reason: z.string().optional(),
    }),
    summary: (d) =>
      [
        d.severity ? `severity ${d.severity.from ?? '?'} → ${d.severity.to}` : '',
        d.title ? `retitled "${d.title.to}"` : '',
        d.impactStartedAt ? `impact start ${d.impactStartedAt.from ?? 'unrecorded'} → ${d.impactStartedAt.to}` : '',
      ]
        .filter(Boolean)
        .join('; ') + (d.reason ? `: ${d.reason}` : ''),
  },
  mitigated: {
    description: 'The impact stopped (automatic: by the integration, when every alert resolved).',
    data: z.looseObject({ summary: z.string().optional(), automatic: z.boolean().optional() }),
    summary: (d) => `mitigated${d.summary ? `: ${d.summary}` : ''}`,
  },
  resolved: {
    description: 'The cause was fixed.',
    data: z.looseObject({ summary: z.string().optional() }),
    summary: (d) => `resolved${d.summary ? `: ${d.summary}` : ''}`,
  },
  cancelled: {
    description: 'The incident was a false alarm.',
    data: z.looseObject({ reason: z.string().optional() }),
    summary: (d) => `cancelled${d.reason ? `: ${d.reason}` : ''}`,
  },
  note: {
    description:
      'A note on the incident timeline; its TODO: lines are action items (owner, priority and type in data for those that name none).',
    data: z.looseObject({
      message: text,
      owner: z.string().optional(),
      priority: z.string().optional(),
      type: z.enum(ACTION_ITEM_TYPES).optional(),
    }),
    summary: (d) => `note: ${d.message}`,
  },
  role: {
    description: 'Someone took a role (commander, communications, scribe, ...).',
    data: z.looseObject({ role: text, person: text }),
    summary: (d) => `${d.person} is ${d.role}`,
  },
})

export { ACTION_ITEM_TYPES, actionItemSchema }

/** Runbooks belong to incidents: a step run is on the incident's timeline. */
export const runbookEvents = defineEvents('runbook', {
  step: {
    description: 'A runbook step was run (status done, failed, timed-out, interrupted) or skipped.',
    data: z.looseObject({
      runbook: text,
      step: z.union([text, z.number().int().min(0)]),
      status: z.string().optional(),
      command: z.string().optional(),
      exitCode: z.number().int().nullable().optional(),
      outputTail: z.string().optional(),
    }),
    summary: (d) =>
      `runbook ${d.runbook} step ${d.step}${optional('', d.status)}${typeof d.exitCode === 'number' ? `, exit ${d.exitCode}` : ''}`,
  },
})
