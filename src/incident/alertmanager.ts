/**
 * Alertmanager's webhook payload (version 4) to an incident declaration: the title from
 * commonAnnotations.summary (else the first alert's summary, else the alert names), the worst
 * `severity` label as SEVn, the `service` label, and the earliest startsAt as the start of
 * impact. Pure: text in, declaration out, or a bad-input error saying what and where.
 */
import { z } from 'zod'
import { badInput, describeSchemaIssues, formatKeyPath, parseYamlText, type LocatedYaml } from '../core/index.js'
import { findJsonSyntaxError } from './json-text.js'
import { readSeverity, severityRank, type Severity } from './severity.js'
import type { AlertRecord } from './state.js'

export const MAX_PAYLOAD_BYTES = 5 * 1024 * 1024
const MAX_ALERTS = 1000
const MAX_TITLE = 200

const labels = z.record(z.string(), z.string({ error: 'expected a string (label and annotation values are strings)' }))
const time = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-11-25T14:02:00Z' })

const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']).optional(),
  labels: labels.refine((value) => typeof value.alertname === 'string' && value.alertname.trim() !== '', { message: 'missing the alertname label' }),
  annotations: labels.default({}),
  startsAt: time,
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
})

export const alertmanagerPayloadSchema = z.looseObject({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().optional(),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  commonAnnotations: labels.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema).min(1, 'expected at least one alert').max(MAX_ALERTS, `more than ${MAX_ALERTS} alerts`),
})

export type AlertmanagerPayload = z.output<typeof alertmanagerPayloadSchema>

export interface FiringAlert extends AlertRecord {
  labels: Record<string, string>
  annotations: Record<string, string>
}

export interface AlertmanagerDeclaration {
  title: string
  severity: Severity
  /** Where the severity came from: `label severity="critical"`, or the default. */
  severitySource: string
  service?: string
  impactStartedAt: string
  alerts: FiringAlert[]
  groupKey?: string
  externalURL?: string
}

const PAYLOAD_HINT = 'Give the JSON body Alertmanager POSTs to a webhook receiver (version 4): {"alerts": [{"labels": {"alertname": ...}, "startsAt": ...}], ...}.'

export function parseAlertmanagerPayload(text: string, file: string): AlertmanagerPayload {
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) throw badInput(`${file}: the payload is larger than 5 MiB`, PAYLOAD_HINT)
  const source = text.replace(/^\uFEFF/, '')
  if (!source.trim()) throw badInput(`${file}: the payload is empty`, PAYLOAD_HINT)
  const syntax = findJsonSyntaxError(source)
  if (syntax) throw badInput(`${file}:${syntax.line}:${syntax.col}: invalid JSON: ${syntax.message}`, PAYLOAD_HINT)
  const value: unknown = JSON.parse(source)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badInput(`${file}:1:1: the payload must be a JSON object with an "alerts" array`, PAYLOAD_HINT)
  const result = alertmanagerPayloadSchema.safeParse(value)
  if (result.success) return result.data
  // JSON is YAML: the YAML reader gives each issue its line and column.
  let located: LocatedYaml | undefined
  try {
    located = parseYamlText(source, file, 'payload')
  } catch {
    located = undefined
  }
  if (located) throw describeSchemaIssues(result.error.issues, located, alertmanagerPayloadSchema, { what: 'Alertmanager payload', hint: PAYLOAD_HINT })
  const lines = result.error.issues.slice(0, 10).map((issue) => `${file}: ${formatKeyPath(issue.path.map((part) => (typeof part === 'number' ? part : String(part))))}: ${issue.message}`)
  throw badInput(lines.join('\n'), PAYLOAD_HINT)
}

/** The declaration for the firing alerts of a payload; a payload with none firing is refused. */
export function declarationFromPayload(payload: AlertmanagerPayload, file: string): AlertmanagerDeclaration {
  const firing = payload.alerts.filter((alert) => (alert.status ?? payload.status ?? 'firing') === 'firing')
  if (firing.length === 0) throw badInput(`${file}: no alert in the payload is firing (status "resolved")`, 'Declare an incident from a payload with firing alerts, or by hand with opsctl incident start "title" --sev N.')
  const alerts: FiringAlert[] = firing.map((alert) => {
    const record: FiringAlert = {
      name: cleanText(alert.labels.alertname!, 120),
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: new Date(alert.startsAt).toISOString(),
    }
    const severity = alert.labels.severity ?? payload.commonLabels.severity
    if (severity) record.severity = cleanText(severity, 40)
    const service = alert.labels.service ?? payload.commonLabels.service
    if (service) record.service = cleanText(service, 120)
    const summary = alert.annotations.summary
    if (summary) record.summary = cleanText(summary, MAX_TITLE)
    return record
  })

  const names = [...new Set(alerts.map((alert) => alert.name))]
  const summary = payload.commonAnnotations.summary ?? alerts.find((alert) => alert.summary)?.summary
  const title = cleanText(summary ?? `${names[0]}${names.length > 1 ? ` (+${names.length - 1} more)` : ''}`, MAX_TITLE) || names[0]!

  let severity: Severity = 'SEV3'
  let severitySource = 'default: no severity label'
  for (const alert of alerts) {
    if (!alert.severity) continue
    const mapped = severityFromLabel(alert.severity)
    if (!mapped) continue
    if (severitySource.startsWith('default') || severityRank(mapped) < severityRank(severity)) {
      severity = mapped
      severitySource = `label severity="${alert.severity}"`
    }
  }
  if (severitySource.startsWith('default') && alerts.some((alert) => alert.severity)) severitySource = `default: unknown severity label "${alerts.find((alert) => alert.severity)!.severity}"`

  const services = [...new Set(alerts.map((alert) => alert.service).filter((value): value is string => Boolean(value)))]
  const impactStartedAt = alerts.map((alert) => alert.startsAt!).sort()[0]!
  const declaration: AlertmanagerDeclaration = { title, severity, severitySource, impactStartedAt, alerts }
  const commonService = payload.commonLabels.service ? cleanText(payload.commonLabels.service, 120) : services.length === 1 ? services[0] : undefined
  if (commonService) declaration.service = commonService
  if (payload.groupKey) declaration.groupKey = payload.groupKey.slice(0, 500)
  if (payload.externalURL) declaration.externalURL = payload.externalURL.slice(0, 500)
  return declaration
}

/**
 * Prometheus alerts carry free-form severity labels. An alert knows its symptom, not its blast
 * radius, so `critical` declares SEV2: the commander raises it to SEV1 (--sev 1) after looking.
 */
export function severityFromLabel(label: string): Severity | undefined {
  const direct = readSeverity(label)
  if (direct) return direct
  const value = label.trim().toLowerCase()
  if (['critical', 'crit', 'page', 'emergency', 'fatal', 'disaster'].includes(value)) return 'SEV2'
  if (['error', 'high', 'major', 'severe'].includes(value)) return 'SEV3'
  if (['warning', 'warn', 'minor', 'medium', 'average'].includes(value)) return 'SEV4'
  if (['info', 'informational', 'low', 'none', 'notice'].includes(value)) return 'SEV5'
  return undefined
}

/** Text from outside (alert summaries) on one line, without control characters, cut to a length. */
export function cleanText(text: string, max: number): string {
  const flat = text.replace(/[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069]+/g, ' ').replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}
