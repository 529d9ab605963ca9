/**
 * Alertmanager's payloads to one normalized delivery: the webhook body (version 4) that a
 * webhook_config receiver gets, and the alert list of its API v2 (`GET /api/v2/alerts`, where an
 * alert's `status` is an object `{state, silencedBy, inhibitedBy}`), bare or wrapped in
 * `{"alerts": [...]}`. Then a delivery to what an incident keeps: title, severity (and which label
 * gave it), service, and every alert with its labels, annotations, generatorURL and fingerprint.
 * Pure: text in, delivery out, or a bad-input error saying what and where.
 */
import { z } from 'zod'
import {
  JsonSyntaxError,
  badInput,
  describeSchemaIssues,
  formatKeyPath,
  parseJsonText,
  parseYamlText,
  type LocatedYaml,
} from '../core/index.js'
import type { AlertEnd, AlertRecord } from './events.js'
import { severityFromLabel, severityRank, type Severity, type SeverityMapping } from './severity.js'

export const MAX_PAYLOAD_BYTES = 5 * 1024 * 1024
export const PAYLOAD_VERSION = '4'
const MAX_ALERTS = 1000
const MAX_TITLE = 200
const MAX_LABEL = 500
const MAX_ANNOTATION = 4000
/** The alerts of one journal event stay well under its 1 MiB limit; the rest are counted, not kept. */
const MAX_ALERT_BYTES = 768 * 1024

const labels = z.record(z.string(), z.string({ error: 'expected a string (label and annotation values are strings)' }))
const time = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-11-25T14:02:00Z' })

/** The webhook's `"firing"`/`"resolved"`, or the API v2's `{state: "active"|"suppressed"|"unprocessed", ...}`. */
const alertStatus = z.union([
  z.enum(['firing', 'resolved']),
  z.looseObject({
    state: z.enum(['active', 'suppressed', 'unprocessed'], { error: 'expected active, suppressed or unprocessed' }),
    silencedBy: z.array(z.string()).optional(),
    inhibitedBy: z.array(z.string()).optional(),
  }),
])

const alertSchema = z.looseObject({
  status: alertStatus.optional(),
  labels: labels.refine((value) => typeof value.alertname === 'string' && value.alertname.trim() !== '', {
    message: 'missing the alertname label',
  }),
  annotations: labels.default({}),
  startsAt: time,
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
})

export const alertmanagerPayloadSchema = z.looseObject({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().optional(),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  commonAnnotations: labels.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema).min(1, 'expected at least one alert').max(MAX_ALERTS, `more than ${MAX_ALERTS} alerts`),
})

type Payload = z.output<typeof alertmanagerPayloadSchema>

/** One alert of a delivery, whichever shape it came in. */
export interface DeliveredAlert {
  fingerprint: string
  name: string
  status: 'firing' | 'resolved'
  startsAt: string
  /** Only for a resolved alert (firing ones carry a zero time or a future expiry, which mean nothing here). */
  endsAt?: string
  labels: Record<string, string>
  annotations: Record<string, string>
  generatorURL?: string
  /** API v2: silenced or inhibited. */
  suppressed?: boolean
}

/** A webhook notification, or an API v2 alert list, normalized. */
export interface AlertDelivery {
  shape: 'webhook' | 'api-v2'
  version?: string
  groupKey?: string
  receiver?: string
  groupLabels: Record<string, string>
  commonLabels: Record<string, string>
  commonAnnotations: Record<string, string>
  externalURL?: string
  /** Alerts Alertmanager left out (webhook_config max_alerts). */
  truncatedAlerts: number
  alerts: DeliveredAlert[]
}

const PAYLOAD_HINT =
  'Give the JSON body Alertmanager POSTs to a webhook receiver (version 4: {"version": "4", "groupKey": ..., "alerts": [{"labels": {"alertname": ...}, "startsAt": ...}]}), or the alert list of its API v2 (/api/v2/alerts).'

export interface ParseOptions {
  /** The receiver takes only webhook bodies, which always say `"version": "4"`. */
  webhookOnly?: boolean
}

/** The payload's text to a delivery; every problem is bad input naming the source, line and column. */
export function parseAlertmanagerPayload(text: string, source: string, options: ParseOptions = {}): AlertDelivery {
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) throw badInput(`${source}: the payload is larger than 5 MiB`, PAYLOAD_HINT)
  const body = text.replace(/^\uFEFF/, '')
  if (!body.trim()) throw badInput(`${source}: the payload is empty`, PAYLOAD_HINT)
  let value: unknown
  try {
    value = parseJsonText(body, { maxDepth: 64 }).value
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error
    throw badInput(`${source}:${error.line}:${error.column}: invalid JSON: ${error.reason}`, PAYLOAD_HINT)
  }
  const apiList = Array.isArray(value)
  if (apiList && options.webhookOnly)
    throw badInput(`${source}:1:1: an alert list (API v2) is not a webhook notification`, 'Point a webhook_config at this receiver.')
  if (!apiList && (value === null || typeof value !== 'object'))
    throw badInput(`${source}:1:1: the payload must be a JSON object with an "alerts" array`, PAYLOAD_HINT)
  const candidate = apiList ? { alerts: value } : (value as Record<string, unknown>)
  const version = candidate.version
  if (options.webhookOnly && version === undefined)
    throw badInput(`${source}: no "version": a webhook notification says "version": "4"`, PAYLOAD_HINT)
  if (version !== undefined && version !== PAYLOAD_VERSION)
    throw badInput(
      `${source}: payload version ${JSON.stringify(version)} is not supported; opsctl reads version "${PAYLOAD_VERSION}"`,
      'Alertmanager 0.x sends version 4 to webhook receivers; check what sends to this receiver.',
    )
  const result = alertmanagerPayloadSchema.safeParse(candidate)
  if (!result.success) throw payloadIssues(result.error.issues, body, source, apiList)
  return normalize(result.data, apiList ? 'api-v2' : 'webhook')
}

function payloadIssues(issues: z.core.$ZodIssue[], body: string, source: string, apiList: boolean): Error {
  // JSON is YAML: the YAML reader gives each issue its line and column.
  let located: LocatedYaml | undefined
  if (!apiList) {
    try {
      located = parseYamlText(body, source, 'payload')
    } catch {
      located = undefined
    }
  }
  if (located) return describeSchemaIssues(issues, located, alertmanagerPayloadSchema, { what: 'Alertmanager payload', hint: PAYLOAD_HINT })
  const lines = issues.slice(0, 10).map((issue) => {
    const path = issue.path.map((part) => (typeof part === 'number' ? part : String(part)))
    return `${source}: ${formatKeyPath(apiList ? path.slice(1) : path) || 'payload'}: ${issue.message}`
  })
  return badInput(lines.join('\n'), PAYLOAD_HINT)
}

function normalize(payload: Payload, shape: AlertDelivery['shape']): AlertDelivery {
  const alerts = payload.alerts.map((alert): DeliveredAlert => {
    const status =
      typeof alert.status === 'object'
        ? 'firing' // API v2 lists alerts that are active, suppressed or not yet processed: all firing
        : (alert.status ?? payload.status ?? 'firing')
    const endsAt = status === 'resolved' ? validTime(alert.endsAt) : undefined
    const fingerprint = alert.fingerprint?.trim() || alertFingerprint(alert.labels)
    const delivered: DeliveredAlert = {
      fingerprint: fingerprint.slice(0, 64),
      name: cleanText(alert.labels.alertname!, 120),
      status,
      startsAt: new Date(alert.startsAt).toISOString(),
      labels: capValues(alert.labels, MAX_LABEL),
      annotations: capValues(alert.annotations, MAX_ANNOTATION),
    }
    if (endsAt) delivered.endsAt = endsAt
    if (status === 'resolved' && !endsAt) delivered.endsAt = delivered.startsAt
    if (alert.generatorURL) delivered.generatorURL = alert.generatorURL.slice(0, 2000)
    if (typeof alert.status === 'object' && alert.status.state === 'suppressed') delivered.suppressed = true
    return delivered
  })
  const delivery: AlertDelivery = {
    shape,
    groupLabels: payload.groupLabels,
    commonLabels: payload.commonLabels,
    commonAnnotations: payload.commonAnnotations,
    truncatedAlerts: payload.truncatedAlerts ?? 0,
    alerts,
  }
  if (payload.version) delivery.version = payload.version
  if (payload.groupKey) delivery.groupKey = payload.groupKey.slice(0, 1000)
  if (payload.receiver) delivery.receiver = payload.receiver.slice(0, 200)
  if (payload.externalURL) delivery.externalURL = payload.externalURL.slice(0, 1000)
  return delivery
}

/** Go's zero time (`0001-01-01T00:00:00Z`) and unreadable times are no time. */
function validTime(value: string | undefined): string | undefined {
  if (!value) return undefined
  const time = Date.parse(value)
  if (Number.isNaN(time) || time <= Date.parse('0002-01-01T00:00:00Z')) return undefined
  return new Date(time).toISOString()
}

function capValues(values: Record<string, string>, max: number): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(values).slice(0, 100))
    out[key.slice(0, 200)] = value.length > max ? `${value.slice(0, max - 1)}…` : value
  return out
}

/**
 * Alertmanager's own fingerprint of a label set (FNV-1a 64 over the sorted names and values, each
 * followed by 0xff), for payloads that do not carry it: the same alert gets the same identity
 * whichever way it arrives.
 */
export function alertFingerprint(labelSet: Record<string, string>): string {
  const prime = 0x100000001b3n
  const mask = 0xffffffffffffffffn
  let hash = 0xcbf29ce484222325n
  const add = (bytes: Uint8Array) => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * prime) & mask
  }
  const encoder = new TextEncoder()
  const separator = new Uint8Array([0xff])
  for (const name of Object.keys(labelSet).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    add(encoder.encode(name))
    add(separator)
    add(encoder.encode(labelSet[name]!))
    add(separator)
  }
  return hash.toString(16).padStart(16, '0')
}

// --- what an incident keeps ------------------------------------------------------------------------

/** A delivered alert as the incident records it. */
export function alertRecordOf(alert: DeliveredAlert, delivery: AlertDelivery, mapping: SeverityMapping): AlertRecord {
  const record: AlertRecord = {
    fingerprint: alert.fingerprint,
    name: alert.name,
    status: alert.status,
    startsAt: alert.startsAt,
    labels: alert.labels,
    annotations: alert.annotations,
  }
  if (alert.endsAt) record.endsAt = alert.endsAt
  const severity = alert.labels[mapping.label] ?? delivery.commonLabels[mapping.label]
  if (severity) record.severity = cleanText(severity, 40)
  const service = alert.labels.service ?? delivery.commonLabels.service
  if (service) record.service = cleanText(service, 120)
  const summary = alert.annotations.summary
  if (summary) record.summary = cleanText(summary, MAX_TITLE)
  if (alert.generatorURL) record.generatorURL = alert.generatorURL
  return record
}

export function alertEndOf(alert: DeliveredAlert): AlertEnd {
  return { fingerprint: alert.fingerprint, name: alert.name, startsAt: alert.startsAt, endsAt: alert.endsAt ?? alert.startsAt }
}

/** Records in order, as many as fit in one journal event; the rest are counted. */
export function fitAlerts<T>(records: readonly T[]): { kept: T[]; omitted: number } {
  let bytes = 0
  const kept: T[] = []
  for (const record of records) {
    bytes += Buffer.byteLength(JSON.stringify(record))
    if (bytes > MAX_ALERT_BYTES && kept.length > 0) break
    kept.push(record)
  }
  return { kept, omitted: records.length - kept.length }
}

export interface SeverityChoice {
  severity: Severity
  /** Which label value gave it, for people: `severity="critical" → SEV1 (HighLatency ×3)`. */
  reason: string
}

/** The worst severity any alert's label gives; every value that was read is named. */
export function severityOfAlerts(alerts: readonly AlertRecord[], mapping: SeverityMapping): SeverityChoice {
  const byValue = new Map<string, { severity: Severity | undefined; names: string[] }>()
  for (const alert of alerts) {
    if (!alert.severity) continue
    const entry = byValue.get(alert.severity) ?? { severity: severityFromLabel(alert.severity, mapping), names: [] }
    entry.names.push(alert.name)
    byValue.set(alert.severity, entry)
  }
  const known = [...byValue].filter(([, entry]) => entry.severity)
  const unknown = [...byValue].filter(([, entry]) => !entry.severity).map(([value]) => `"${value}"`)
  const ignoring = unknown.length ? `; ${unknown.join(', ')} not in incident.severities` : ''
  if (known.length === 0) {
    const why = unknown.length
      ? `no known ${mapping.label} label value (${unknown.join(', ')} not in incident.severities)`
      : `no alert has a ${mapping.label} label`
    return { severity: mapping.unlabelled, reason: `${why}: ${mapping.unlabelled} (incident.unlabelledSeverity)` }
  }
  known.sort((a, b) => severityRank(a[1].severity!) - severityRank(b[1].severity!))
  const parts = known.map(([value, entry]) => `${mapping.label}="${value}" → ${entry.severity} (${countNames(entry.names)})`)
  return {
    severity: known[0]![1].severity!,
    reason: `label ${parts.join(', ')}${known.length > 1 ? '; the worst wins' : ''}${ignoring}`,
  }
}

function countNames(names: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1)
  return [...counts].map(([name, count]) => (count > 1 ? `${name} ×${count}` : name)).join(', ')
}

/**
 * A title that names the whole group: the group's common summary when Alertmanager found one;
 * one alert's own summary; else the alert names, how many fire, and the labels the group is
 * grouped by (`HighLatency: 3 alerts firing (service=api)`).
 */
export function groupTitle(delivery: AlertDelivery, alerts: readonly AlertRecord[]): string {
  const common = delivery.commonAnnotations.summary
  if (common) return cleanText(common, MAX_TITLE)
  if (alerts.length === 1 && alerts[0]!.summary) return alerts[0]!.summary
  const names = [...new Set(alerts.map((alert) => alert.name))]
  const firing = alerts.filter((alert) => alert.status === 'firing').length
  const grouped = Object.entries(delivery.groupLabels)
    .filter(([key]) => key !== 'alertname' || names.length > 1)
    .map(([key, value]) => `${key}=${value}`)
  const count = alerts.length === 1 ? '' : `: ${firing || alerts.length} alerts ${firing ? 'firing' : 'resolved'}`
  return cleanText(`${names.join(', ')}${count}${grouped.length ? ` (${grouped.join(', ')})` : ''}`, MAX_TITLE)
}

/** The group's service: its common `service` label, or the one every alert shares. */
export function groupService(delivery: AlertDelivery, alerts: readonly AlertRecord[]): string | undefined {
  if (delivery.commonLabels.service) return cleanText(delivery.commonLabels.service, 120)
  const services = [...new Set(alerts.map((alert) => alert.service).filter((value): value is string => Boolean(value)))]
  return services.length === 1 ? services[0] : undefined
}

/** Text from outside (alert summaries) on one line, without control characters, cut to a length. */
export function cleanText(text: string, max: number): string {
  const flat = text
    .replace(/[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}
