import { describe, expect, it } from 'vitest'
import { configSchema, isOpsError } from '../../src/core/index.js'
import {
  alertFingerprint,
  alertRecordOf,
  groupTitle,
  parseAlertmanagerPayload,
  parseSeverity,
  planDelivery,
  replayIncidents,
  severityFromLabel,
  severityOfAlerts,
  type AlertDelivery,
  type SeverityMapping,
} from './internals.js'
import { alertmanagerPayload, apiV2Alerts, timeline } from './fixtures.js'

function badInputOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (isOpsError(error) && error.exit === 2) return error.message
    throw error
  }
  throw new Error('expected exit 2')
}

const section = configSchema.parse({}).incident
const MAPPING: SeverityMapping = { label: section.severityLabel, values: section.severities, unlabelled: section.unlabelledSeverity }

const parse = (payload: unknown, file = 'alert.json') => parseAlertmanagerPayload(JSON.stringify(payload, null, 2), file)
const recordsOf = (delivery: AlertDelivery) => delivery.alerts.map((alert) => alertRecordOf(alert, delivery, MAPPING))

describe('an Alertmanager payload, in either shape', () => {
  it('reads a webhook body (version 4): every alert with its labels, annotations, generatorURL and fingerprint', () => {
    const delivery = parse(alertmanagerPayload())
    expect(delivery).toMatchObject({
      shape: 'webhook',
      version: '4',
      groupKey: '{}:{service="api"}',
      externalURL: 'http://alertmanager:9093',
    })
    expect(delivery.alerts[0]).toEqual({
      fingerprint: 'c6d8f2a1b3e4d5f6',
      name: 'HighRequestLatency',
      status: 'firing',
      startsAt: '2026-11-25T13:58:12.345Z',
      labels: { alertname: 'HighRequestLatency', service: 'api', severity: 'critical', instance: 'api-1:3000' },
      annotations: { summary: 'p99 latency of api above 500ms', description: 'The p99 of /users/:id/orders is 1.2s.' },
      generatorURL: 'http://prometheus:9090/graph?g0.expr=...',
    })
    // A firing alert's zero endsAt means nothing; a resolved one's is when it ended.
    expect(delivery.alerts[0]!.endsAt).toBeUndefined()
  })

  it('reads the API v2 alert list, whose status is an object, bare or wrapped in {alerts}, as the start --help example pipes it', () => {
    for (const payload of [apiV2Alerts(), { alerts: apiV2Alerts() }]) {
      const delivery = parse(payload, 'stdin')
      expect(delivery.shape).toBe(Array.isArray(payload) ? 'api-v2' : 'webhook')
      expect(delivery.alerts.map((alert) => [alert.name, alert.status, alert.suppressed ?? false])).toEqual([
        ['HighRequestLatency', 'firing', false],
        ['HighRequestLatency', 'firing', true],
      ])
    }
  })

  it("computes Alertmanager's own fingerprint when the payload has none", () => {
    // The test vector of Prometheus's own LabelsToSignature (prometheus/common, model/signature_test.go): 5799056148416392346.
    expect(BigInt(`0x${alertFingerprint({ name: 'garland, briggs', fear: 'love is not enough' })}`)).toBe(5799056148416392346n)
    const payload = alertmanagerPayload()
    delete (payload.alerts[1] as { fingerprint?: string }).fingerprint
    expect(parse(payload).alerts[1]!.fingerprint).toBe(alertFingerprint(payload.alerts[1]!.labels))
  })

  it('names the whole group in the title, not only its first alert', () => {
    const three = alertmanagerPayload({
      groupLabels: { alertname: 'HighRequestLatency', service: 'api' },
      alerts: [1, 2, 3].map((n) => ({
        status: 'firing',
        labels: { alertname: 'HighRequestLatency', service: 'api', severity: 'critical', instance: `api-${n}:3000` },
        annotations: { summary: `p99 of api-${n} above 500ms` },
        startsAt: `2026-11-25T13:5${n}:00Z`,
        endsAt: '0001-01-01T00:00:00Z',
      })),
    })
    const delivery = parse(three)
    expect(groupTitle(delivery, recordsOf(delivery))).toBe('HighRequestLatency: 3 alerts firing (service=api)')
    const common = parse({ ...three, commonAnnotations: { summary: 'api p99 above 500ms on 3 instances' } })
    expect(groupTitle(common, recordsOf(common))).toBe('api p99 above 500ms on 3 instances')
  })

  it('strips control characters from a hostile title and cuts it', () => {
    const delivery = parse(
      alertmanagerPayload({ commonAnnotations: { summary: `\u001B]8;;http://evil\u0007click\u001B[2J${'x'.repeat(500)}` } }),
    )
    const title = groupTitle(delivery, recordsOf(delivery))
    expect(title).not.toMatch(/[\u0000-\u001F]/)
    expect(title.length).toBeLessThanOrEqual(200)
  })
})

describe('severity from alert labels', () => {
  it.each([
    ['critical', 'SEV1'],
    ['major', 'SEV2'],
    ['error', 'SEV2'],
    ['warning', 'SEV3'],
    ['minor', 'SEV3'],
    ['low', 'SEV4'],
    ['info', 'SEV5'],
    ['sev1', 'SEV1'],
    ['P3', 'SEV3'],
    ['whatever', undefined],
  ])('by default, %s is %s', (label, severity) => expect(severityFromLabel(label, MAPPING)).toBe(severity))

  it('follows the mapping of opsctl.yaml', () => {
    const mapping = { ...MAPPING, values: { ...MAPPING.values, SEV1: [], SEV2: ['critical', 'page'] } }
    expect(severityFromLabel('Critical', mapping)).toBe('SEV2')
  })

  it('says which label value gave which severity, and that the worst wins', () => {
    const delivery = parse(alertmanagerPayload())
    expect(severityOfAlerts(recordsOf(delivery), MAPPING)).toEqual({
      severity: 'SEV1',
      reason: 'label severity="critical" → SEV1 (HighRequestLatency), severity="warning" → SEV3 (HighErrorRate); the worst wins',
    })
  })

  it('falls back to incident.unlabelledSeverity without a known value, and says so', () => {
    const payload = alertmanagerPayload()
    for (const alert of payload.alerts) delete (alert.labels as Record<string, string>).severity
    expect(severityOfAlerts(recordsOf(parse(payload)), MAPPING)).toEqual({
      severity: 'SEV3',
      reason: 'no alert has a severity label: SEV3 (incident.unlabelledSeverity)',
    })
    payload.alerts[0]!.labels.severity = 'urgent'
    expect(severityOfAlerts(recordsOf(parse(payload)), MAPPING).reason).toBe(
      'no known severity label value ("urgent" not in incident.severities): SEV3 (incident.unlabelledSeverity)',
    )
  })

  it('--sev takes the names the help shows', () => {
    expect(['critical', 'major', 'minor', 'low', 'informational', '1', 'sev-2', 'P3'].map((text) => parseSeverity(text))).toEqual([
      'SEV1',
      'SEV2',
      'SEV3',
      'SEV4',
      'SEV5',
      'SEV1',
      'SEV2',
      'SEV3',
    ])
    expect(badInputOf(() => parseSeverity('urgent'))).toBe('Invalid severity "urgent" for --sev')
  })
})

describe('what a delivery does to the incidents', () => {
  const { incident } = timeline()
  const id = 'INC-20261125-AAAA'
  const inc = incident(id)
  const first = parse(alertmanagerPayload())
  const opened = () =>
    inc.opened(0, { source: 'alertmanager', via: 'webhook', alertGroupKey: first.groupKey, alerts: recordsOf(first) }, 'alertmanager')

  it('opens an incident for a new group', () => {
    const plan = planDelivery([], first, MAPPING)
    expect(plan).toMatchObject({ action: 'open', declaration: { severity: 'SEV1', alertGroupKey: '{}:{service="api"}' } })
  })

  it('writes nothing for a redelivery or a repeat notification', () => {
    const { incidents } = replayIncidents([opened()])
    expect(planDelivery(incidents, first, MAPPING)).toMatchObject({ action: 'unchanged', incident: { id } })
  })

  it('appends a new alert of the group, and the recoveries', () => {
    const { incidents } = replayIncidents([opened()])
    const payload = alertmanagerPayload()
    payload.alerts.push({
      ...payload.alerts[0]!,
      labels: { ...payload.alerts[0]!.labels, instance: 'api-4:3000' },
      fingerprint: 'f4f4f4f4f4f4f4f4',
      startsAt: '2026-11-25T14:03:00Z',
    })
    const plan = planDelivery(incidents, parse(payload), MAPPING)
    expect(plan).toMatchObject({ action: 'append', firing: [{ fingerprint: 'f4f4f4f4f4f4f4f4' }], resolved: [] })

    payload.status = 'resolved'
    for (const alert of payload.alerts) Object.assign(alert, { status: 'resolved', endsAt: '2026-11-25T14:20:00Z' })
    const recovery = planDelivery(incidents, parse(payload), MAPPING)
    expect(recovery).toMatchObject({ action: 'append' })
    if (recovery.action !== 'append') throw new Error('expected an append')
    expect(recovery.resolved.map((end) => [end.fingerprint, end.endsAt])).toEqual([
      ['c6d8f2a1b3e4d5f6', '2026-11-25T14:20:00.000Z'],
      [first.alerts[1]!.fingerprint, '2026-11-25T14:20:00.000Z'],
      ['f4f4f4f4f4f4f4f4', '2026-11-25T14:20:00.000Z'],
    ])
  })

  it('opens a new incident when a closed group fires again, and records late recoveries on the closed one', () => {
    const { incidents } = replayIncidents([opened(), inc.resolved(30)])
    const again = alertmanagerPayload()
    for (const alert of again.alerts) alert.startsAt = '2026-11-25T15:00:00Z'
    expect(planDelivery(incidents, parse(again), MAPPING)).toMatchObject({ action: 'open' })
    const late = alertmanagerPayload({ status: 'resolved' })
    for (const alert of late.alerts) Object.assign(alert, { status: 'resolved', endsAt: '2026-11-25T14:45:00Z' })
    expect(planDelivery(incidents, parse(late), MAPPING)).toMatchObject({ action: 'append', incident: { id }, firing: [] })
  })

  it('records nothing for resolved alerts of a group it never saw', () => {
    const late = alertmanagerPayload({ status: 'resolved' })
    for (const alert of late.alerts) Object.assign(alert, { status: 'resolved', endsAt: '2026-11-25T14:45:00Z' })
    expect(planDelivery([], parse(late), MAPPING)).toEqual({
      action: 'unchanged',
      reason: 'no incident for this group, and none of its alerts is firing',
    })
  })
})

describe('a malformed payload: exit 2 with what and where', () => {
  it('invalid JSON, at its line and column', () => {
    expect(badInputOf(() => parseAlertmanagerPayload('{\n  "alerts": [\n    {"labels": }\n  ]\n}', 'alert.json'))).toBe(
      'alert.json:3:16: invalid JSON: unexpected "}", expected a value',
    )
  })

  it('a missing alertname and a bad time, at their positions', () => {
    const payload = alertmanagerPayload()
    delete (payload.alerts[1]!.labels as Record<string, string>).alertname
    payload.alerts[0]!.startsAt = 'yesterday'
    const message = badInputOf(() => parseAlertmanagerPayload(JSON.stringify(payload, null, 2), 'alert.json'))
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^alert\.json:\d+:\d+: alerts\[0\]\.startsAt: expected an RFC 3339 time/),
      expect.stringMatching(/^alert\.json:\d+:\d+: alerts\[1\]\.labels: missing the alertname label$/),
    ])
  })

  it('another payload version, or none where a webhook must say it', () => {
    expect(badInputOf(() => parse(alertmanagerPayload({ version: '5' })))).toBe(
      'alert.json: payload version "5" is not supported; opsctl reads version "4"',
    )
    const { version: _version, ...unversioned } = alertmanagerPayload()
    expect(badInputOf(() => parseAlertmanagerPayload(JSON.stringify(unversioned), 'request body', { webhookOnly: true }))).toBe(
      'request body: no "version": a webhook notification says "version": "4"',
    )
    expect(badInputOf(() => parseAlertmanagerPayload(JSON.stringify(apiV2Alerts()), 'request body', { webhookOnly: true }))).toBe(
      'request body:1:1: an alert list (API v2) is not a webhook notification',
    )
  })

  it('not an object, no alerts, an empty body, a huge body, absurd nesting, a truncated body', () => {
    expect(badInputOf(() => parseAlertmanagerPayload('"alerts"', 'stdin'))).toBe(
      'stdin:1:1: the payload must be a JSON object with an "alerts" array',
    )
    expect(badInputOf(() => parseAlertmanagerPayload('[1, 2]', 'stdin'))).toMatch(
      /^stdin: \[0\]: Invalid input: expected object, received number/,
    )
    expect(badInputOf(() => parseAlertmanagerPayload('{"alerts": []}', 'stdin'))).toMatch(
      /^stdin:1:\d+: alerts: expected at least one alert/,
    )
    expect(badInputOf(() => parseAlertmanagerPayload('  \n', 'stdin'))).toBe('stdin: the payload is empty')
    expect(badInputOf(() => parseAlertmanagerPayload(`{"x": "${'a'.repeat(6 * 1024 * 1024)}"}`, 'stdin'))).toBe(
      'stdin: the payload is larger than 5 MiB',
    )
    expect(badInputOf(() => parseAlertmanagerPayload(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'stdin'))).toMatch(
      /^stdin:1:65: invalid JSON: nested deeper than 64 levels/,
    )
    const text = JSON.stringify(alertmanagerPayload())
    expect(badInputOf(() => parseAlertmanagerPayload(text.slice(0, text.length / 2), 'stdin'))).toMatch(/^stdin:1:\d+: invalid JSON: /)
  })
})
