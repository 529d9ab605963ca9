import { describe, expect, it } from 'vitest'
import { isOpsError } from '../../src/core/index.js'
import { declarationFromPayload, findJsonSyntaxError, parseAlertmanagerPayload, severityFromLabel } from '../../src/incident/index.js'
import { alertmanagerPayload } from './fixtures.js'

function badInputOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (isOpsError(error) && error.exit === 2) return error.message
    throw error
  }
  throw new Error('expected exit 2')
}

const declare = (payload: unknown, file = 'alert.json') => declarationFromPayload(parseAlertmanagerPayload(JSON.stringify(payload, null, 2), file), file)

describe('an incident from an Alertmanager payload', () => {
  it('takes the title, the worst severity, the service and the earliest start', () => {
    const declaration = declare(alertmanagerPayload())
    expect(declaration).toMatchObject({
      title: 'p99 latency of api above 500ms',
      severity: 'SEV2',
      severitySource: 'label severity="critical"',
      service: 'api',
      impactStartedAt: '2026-11-25T13:58:12.345Z',
      groupKey: '{}:{service="api"}',
    })
    expect(declaration.alerts.map((alert) => alert.name)).toEqual(['HighRequestLatency', 'HighErrorRate'])
  })

  it('prefers commonAnnotations.summary, and falls back to the alert names', () => {
    expect(declare(alertmanagerPayload({ commonAnnotations: { summary: 'api is slow and failing' } })).title).toBe('api is slow and failing')
    const bare = alertmanagerPayload()
    for (const alert of bare.alerts) alert.annotations = {} as typeof alert.annotations
    expect(declare(bare).title).toBe('HighRequestLatency (+1 more)')
  })

  it('leaves resolved alerts out, and refuses a payload with none firing', () => {
    const payload = alertmanagerPayload()
    payload.alerts[0]!.status = 'resolved'
    expect(declare(payload).alerts.map((alert) => alert.name)).toEqual(['HighErrorRate'])
    payload.alerts[1]!.status = 'resolved'
    expect(badInputOf(() => declare(payload))).toBe('alert.json: no alert in the payload is firing (status "resolved")')
  })

  it('defaults to SEV3 without a severity label, and says so', () => {
    const payload = alertmanagerPayload()
    for (const alert of payload.alerts) delete (alert.labels as Record<string, string>).severity
    expect(declare(payload)).toMatchObject({ severity: 'SEV3', severitySource: 'default: no severity label' })
  })

  it('strips control characters and cuts a hostile summary', () => {
    const payload = alertmanagerPayload({ commonAnnotations: { summary: `\u001B]8;;http://evil\u0007click\u001B[2J${'x'.repeat(500)}` } })
    const { title } = declare(payload)
    expect(title).not.toMatch(/[\u0000-\u001F]/)
    expect(title.length).toBeLessThanOrEqual(200)
  })
})

describe('a malformed payload: exit 2 with what and where', () => {
  it('invalid JSON, at its line and column', () => {
    expect(badInputOf(() => parseAlertmanagerPayload('{\n  "alerts": [\n    {"labels": }\n  ]\n}', 'alert.json'))).toBe('alert.json:3:16: invalid JSON: unexpected "}"')
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

  it('not an object, no alerts, an empty body, a huge body, absurd nesting', () => {
    expect(badInputOf(() => parseAlertmanagerPayload('[1, 2]', 'stdin'))).toBe('stdin:1:1: the payload must be a JSON object with an "alerts" array')
    expect(badInputOf(() => parseAlertmanagerPayload('{"alerts": []}', 'stdin'))).toMatch(/^stdin:1:\d+: alerts: expected at least one alert/)
    expect(badInputOf(() => parseAlertmanagerPayload('  \n', 'stdin'))).toBe('stdin: the payload is empty')
    expect(badInputOf(() => parseAlertmanagerPayload(`{"x": "${'a'.repeat(6 * 1024 * 1024)}"}`, 'stdin'))).toBe('stdin: the payload is larger than 5 MiB')
    expect(badInputOf(() => parseAlertmanagerPayload(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'stdin'))).toMatch(/^stdin:1:65: invalid JSON: nested deeper than 64 levels/)
  })
})

describe('JSON syntax positions', () => {
  it.each([
    ['{"a": 1,}', 1, 9],
    ['{"a" 1}', 1, 6],
    ['{"a": "x\ny"}', 1, 9],
    ['{"a": tru}', 1, 7],
    ['{"a": 1} x', 1, 10],
    ['{"a": "\\q"}', 1, 8],
  ])('%j fails at %i:%i', (text, line, col) => expect(findJsonSyntaxError(text)).toMatchObject({ line, col }))

  it('passes valid JSON', () => expect(findJsonSyntaxError(JSON.stringify(alertmanagerPayload(), null, '\t'))).toBeUndefined())
})

describe('severity labels', () => {
  it.each([
    ['critical', 'SEV2'],
    ['page', 'SEV2'],
    ['error', 'SEV3'],
    ['warning', 'SEV4'],
    ['info', 'SEV5'],
    ['sev1', 'SEV1'],
    ['P3', 'SEV3'],
    ['whatever', undefined],
  ])('%s is %s', (label, severity) => expect(severityFromLabel(label)).toBe(severity))
})
