import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type Settings } from '../../src/core/index.js'
import { openJournal } from '../../src/journal/index.js'
import {
  buildPostmortem,
  incidentStatus,
  readIncidents,
  receiverOptions,
  renderPostmortem,
  renderStatus,
  startAlertReceiver,
  type AlertReceiver,
  type RequestReport,
} from './internals.js'
import { alertmanagerPayload, tempDir, type TempDir, type WebhookAlert } from './fixtures.js'
import { palette } from '../../src/core/index.js'

const TOKEN = 'receiver-token-0123456789abcdef'
const SECRETS = ['s3cretPW', 'hunter2', 'tok-9f8e7d6c5b4a', 'AKIA-SECRET-KEY']

let work: TempDir
let settings: Settings
let receiver: AlertReceiver
const reports: RequestReport[] = []

beforeAll(async () => {
  work = tempDir('opsctl-incident-receiver-')
  work.write('opsctl.yaml', 'service:\n  name: api\nincident:\n  mitigateWhenAlertsResolve: true\n  receiver:\n    maxBody: 64kB\n')
  settings = loadConfig({
    cwd: work.path,
    env: {
      OPSCTL_INCIDENT_RECEIVER_TOKEN: TOKEN,
      OPSCTL_INCIDENT_RECEIVER_USERNAME: 'am',
      OPSCTL_INCIDENT_RECEIVER_PASSWORD: 'basic-pass-123',
    },
  })
  receiver = await startAlertReceiver(settings, {
    ...receiverOptions(settings, { port: 0 }),
    env: { ...process.env, OPSCTL_ACTOR: 'should-not-be-used' },
    onRequest: (report) => reports.push(report),
  })
})
afterAll(async () => {
  await receiver?.stop()
  work?.remove()
})

/** Three instances of one alert, with secrets where payloads carry them (a URL password, a query token, a key=value). */
function instance(n: number, startsAt: string): WebhookAlert {
  return {
    status: 'firing',
    labels: { alertname: 'HighRequestLatency', service: 'api', severity: 'critical', instance: `api-${n}:3000` },
    annotations: {
      summary: `p99 of api-${n} above 500ms`,
      description: `Pool at postgres://app:s3cretPW@db:5432/orders is slow; password=hunter2\nSecond line of the description.`,
      runbook_url: 'https://runbooks.example/high-latency.md',
      dashboard: `https://grafana.example/d/api?orgId=1&token=tok-9f8e7d6c5b4a`,
    },
    startsAt,
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: `http://prometheus:9090/graph?g0.expr=latency&api_key=AKIA-SECRET-KEY`,
    fingerprint: `f00${n}f00${n}f00${n}f00${n}`,
  }
}

const GROUP = '{}/{severity="critical"}:{alertname="HighRequestLatency", service="api"}'
const group = (alerts: WebhookAlert[], status = 'firing') =>
  alertmanagerPayload({
    status,
    alerts,
    groupKey: GROUP,
    groupLabels: { alertname: 'HighRequestLatency', service: 'api' },
    commonLabels: { alertname: 'HighRequestLatency', service: 'api', severity: 'critical' },
    commonAnnotations: { runbook_url: 'https://runbooks.example/high-latency.md' },
  })

async function post(body: string | object, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const response = await fetch(receiver.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function journalSize(): Promise<number> {
  const store = await openJournal(settings)
  try {
    let count = 0
    for await (const _event of store.read()) count++
    return count
  } finally {
    await store.close()
  }
}

describe('opsctl incident receive, as Alertmanager delivers', () => {
  const firing = [instance(1, '2026-11-25T13:58:12.345Z'), instance(2, '2026-11-25T13:58:40.100Z'), instance(3, '2026-11-25T13:59:01.000Z')]

  it('opens one incident for a firing group, even when Alertmanager delivers it five times at once', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(group(firing))))
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200])
    expect(answers.map((answer) => answer.body.outcome).sort()).toEqual(['opened', 'unchanged', 'unchanged', 'unchanged', 'unchanged'])
    const store = await openJournal(settings)
    const { incidents } = await readIncidents(store).finally(() => store.close())
    expect(incidents).toHaveLength(1)
    expect(incidents[0]).toMatchObject({
      title: 'HighRequestLatency: 3 alerts firing (service=api)',
      severity: 'SEV1',
      severityReason: 'label severity="critical" → SEV1 (HighRequestLatency ×3)',
      openedBy: 'alertmanager',
      responders: [],
      alertsStartedAt: '2026-11-25T13:58:12.345Z',
      alertmanagerUrl: 'http://alertmanager:9093',
    })
    expect(incidents[0]!.runbooks).toEqual(['high-latency'])
  })

  it('appends an alert that joins the group, and nothing for a repeat', async () => {
    const fourth = instance(4, '2026-11-25T14:03:30.250Z')
    const appended = await post(group([...firing, fourth]))
    expect(appended).toMatchObject({ status: 200, body: { outcome: 'appended', reason: '1 new alert' } })
    const repeat = await post(group([...firing, fourth]))
    expect(repeat.body.outcome).toBe('unchanged')
    const { incident } = await incidentStatus(settings, undefined)
    expect(incident.alerts.map((alert) => [alert.labels?.instance, alert.status])).toEqual([
      ['api-1:3000', 'firing'],
      ['api-2:3000', 'firing'],
      ['api-3:3000', 'firing'],
      ['api-4:3000', 'firing'],
    ])
  })

  it('refuses every malformed delivery with a 4xx and a reason, and writes nothing', async () => {
    const before = await journalSize()
    const text = JSON.stringify(group(firing))
    const oversize = group(firing.map((alert) => ({ ...alert, annotations: { ...alert.annotations, blob: 'x'.repeat(30_000) } })))
    const answers = {
      truncated: await post(text.slice(0, text.length - 40)),
      version: await post({ ...group(firing), version: '5' }),
      noAuth: await post(text, {}),
      wrongToken: await post(text, { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }),
      wrongBasic: await post(text, { authorization: `Basic ${Buffer.from('am:wrong-pass').toString('base64')}` }),
      oversize: await post(oversize),
      notJson: await post(text, { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }),
      noAlerts: await post({ ...group(firing), alerts: [] }),
    }
    expect(Object.fromEntries(Object.entries(answers).map(([name, answer]) => [name, answer.status]))).toEqual({
      truncated: 400,
      version: 400,
      noAuth: 401,
      wrongToken: 401,
      wrongBasic: 401,
      oversize: 413,
      notJson: 415,
      noAlerts: 400,
    })
    expect(answers.truncated.body.error).toMatch(/^request body:1:\d+: invalid JSON/)
    expect(answers.version.body.error).toBe('request body: payload version "5" is not supported; opsctl reads version "4"')
    expect(answers.noAuth.body.error).toMatch(/missing credentials/)
    expect(answers.oversize.body.error).toMatch(/^the body is \d+ bytes; the limit is 64000 \(incident.receiver.maxBody\)$/)
    const wrongPath = await fetch(receiver.url.replace('/alertmanager', '/other'), { method: 'POST', body: text })
    expect(wrongPath.status).toBe(404)
    const get = await fetch(receiver.url, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(get.status).toBe(405)
    expect(await journalSize()).toBe(before)
    // Basic auth as http_config.basic_auth sends it is accepted too.
    const basic = await post(text, { authorization: `Basic ${Buffer.from('am:basic-pass-123').toString('base64')}` })
    expect(basic).toMatchObject({ status: 200, body: { outcome: 'unchanged' } })
  })

  it('records each recovery, marks the alerts resolved, and (as configured) mitigates; a person still resolves', async () => {
    const ended = (alert: WebhookAlert, endsAt: string): WebhookAlert => ({ ...alert, status: 'resolved', endsAt })
    const all = [...firing, instance(4, '2026-11-25T14:03:30.250Z')]
    const partly = await post(group([ended(all[0]!, '2026-11-25T14:20:00.500Z'), ...all.slice(1)]))
    expect(partly.body).toMatchObject({ outcome: 'appended', reason: '1 resolved' })
    const rest = await post(
      group(
        all.map((alert, index) => ended(alert, index === 0 ? '2026-11-25T14:20:00.500Z' : `2026-11-25T14:2${index}:00.000Z`)),
        'resolved',
      ),
    )
    expect(rest.body).toMatchObject({ outcome: 'appended', reason: '3 resolved', status: 'mitigated' })
    const { incident, metrics } = await incidentStatus(settings, undefined)
    expect(incident).toMatchObject({
      status: 'mitigated',
      mitigatedAutomatically: true,
      alertsResolvedAt: '2026-11-25T14:23:00.000Z',
      responders: [],
    })
    expect(incident.alerts.map((alert) => alert.endsAt)).toEqual([
      '2026-11-25T14:20:00.500Z',
      '2026-11-25T14:21:00.000Z',
      '2026-11-25T14:22:00.000Z',
      '2026-11-25T14:23:00.000Z',
    ])
    // Time to detect from the alert's startsAt, and it says why.
    const detect = metrics.find((metric) => metric.name === 'timeToDetect')!
    expect(detect.from).toEqual({ point: 'alert startsAt', at: '2026-11-25T13:58:12.345Z' })
    expect(detect.ms).toBe(Date.parse(incident.openedAt) - Date.parse('2026-11-25T13:58:12.345Z'))
    expect(detect.note).toMatch(/for: window/)

    // A late repeat of the recoveries changes nothing.
    expect(
      (
        await post(
          group(
            all.map((alert) => ended(alert, '2026-11-25T14:23:00.000Z')),
            'resolved',
          ),
        )
      ).body.outcome,
    ).toBe('unchanged')
  })

  it('shows the alert context in the status and the post-mortem, with no secret of the payload', async () => {
    const report = await incidentStatus(settings, undefined)
    const human = renderStatus(report, palette(false))
    expect(human).toContain('runbook_url: https://runbooks.example/high-latency.md')
    expect(human).toContain('alertmanager: http://alertmanager:9093')
    expect(human).toContain('fingerprint: f001f001f001f001')
    expect(human).toContain('source: http://prometheus:9090/graph')
    const store = await openJournal(settings)
    const events = []
    for await (const event of store.read()) events.push(event)
    await store.close()
    const pm = buildPostmortem(report.incident, events, { generatedAt: '2026-11-25T15:00:00.000Z', leadInMs: 30 * 60_000 })
    const outputs = [
      human,
      JSON.stringify(report),
      ...(['md', 'html', 'json', 'text'] as const).map((format) => renderPostmortem(pm, format)),
    ]
    for (const output of outputs) for (const secret of SECRETS) expect(output).not.toContain(secret)
    const md = renderPostmortem(pm, 'md')
    expect(md).toContain('HighRequestLatency (instance=api-4:3000) firing')
    expect(md).toContain('HighRequestLatency (instance=api-1:3000) resolved')
    // The integration wrote all of it: it is an actor on the timeline, not a responder.
    expect(pm.responders).toEqual([])
    expect(reports.every((entry) => entry.durationMs >= 0)).toBe(true)
  })
})
