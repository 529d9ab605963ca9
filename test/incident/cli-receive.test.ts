import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { opsctl, startOpsctl, type Run } from '../journal/cli.js'
import { alertmanagerPayload, tempDir, type TempDir, type WebhookAlert } from './fixtures.js'

const CLI_TIMEOUT = 300_000
const TOKEN = 'e2e-receiver-token-7c1d9a0b2e'
const SECRETS = ['Sup3rSecretPw', 'qtoken-123456789', TOKEN]

let work: TempDir
beforeAll(() => {
  work = tempDir('opsctl-incident-receive-cli-')
  writeFileSync(join(work.path, 'opsctl.yaml'), 'service:\n  name: api\n')
})
afterAll(() => work?.remove())

const run = (args: string[], actor = 'alice'): Promise<Run> => opsctl(args, { cwd: work.path, env: { OPSCTL_ACTOR: actor } })
function json<T>(result: Run): T {
  expect(result.status, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as T
}

const alert = (n: number, startsAt: string, resolvedAt?: string): WebhookAlert => ({
  status: resolvedAt ? 'resolved' : 'firing',
  labels: { alertname: 'CheckoutErrors', service: 'checkout', severity: 'warning', instance: `checkout-${n}` },
  annotations: {
    summary: `5xx above 2% on checkout-${n}`,
    description: `Upstream postgres://svc:Sup3rSecretPw@pg:5432/shop refuses connections.\nSee the dashboard.`,
    dashboard: 'https://grafana.example/d/checkout?var-token=qtoken-123456789',
  },
  startsAt,
  endsAt: resolvedAt ?? '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus:9090/graph?g0.expr=rate',
  fingerprint: `c0ffee00c0ffee0${n}`,
})
const group = (alerts: WebhookAlert[], status = 'firing') =>
  alertmanagerPayload({
    status,
    alerts,
    groupKey: '{}:{alertname="CheckoutErrors", service="checkout"}',
    groupLabels: { alertname: 'CheckoutErrors', service: 'checkout' },
    commonLabels: { alertname: 'CheckoutErrors', service: 'checkout', severity: 'warning' },
    commonAnnotations: {},
  })

interface Metric {
  name: string
  ms?: number
  from?: { point: string; at: string }
  to?: { point: string; at: string }
}
interface TimelineEntry {
  at: string
  kind: string
  eventId: string
  summary: string
}

describe('opsctl incident receive, end to end', () => {
  it(
    'turns a firing, re-notified and resolved group into one incident that people then run to its post-mortem',
    async () => {
      const receiver = startOpsctl(['incident', 'receive', '--port', '0'], {
        cwd: work.path,
        env: { OPSCTL_INCIDENT_RECEIVER_TOKEN: TOKEN, OPSCTL_ACTOR: 'should-not-appear' },
      })
      let stdout = ''
      receiver.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /at (http:\/\/127\.0\.0\.1:\d+\/alertmanager)/.exec(stdout)
          if (match) {
            clearInterval(timer)
            resolve(match[1]!)
          }
        }, 100)
        void receiver.done.then((result) => {
          clearInterval(timer)
          reject(new Error(`the receiver exited: ${result.stderr}`))
        })
      })
      const deliver = async (body: unknown) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify(body),
        })
        return { status: response.status, body: (await response.json()) as { outcome: string; incident?: string } }
      }
      try {
        const first = [alert(1, '2026-11-25T13:58:12.345Z'), alert(2, '2026-11-25T13:59:00.120Z')]
        const opened = await deliver(group(first))
        expect(opened).toMatchObject({ status: 200, body: { outcome: 'opened' } })
        const id = opened.body.incident!
        expect((await deliver(group(first))).body.outcome).toBe('unchanged') // Alertmanager's retry
        expect((await deliver(group([...first, alert(3, '2026-11-25T14:04:30.999Z')]))).body.outcome).toBe('appended')
        const unauthorized = await fetch(url, { method: 'POST', body: JSON.stringify(group(first)) })
        expect(unauthorized.status).toBe(401)
        const resolved = await deliver(
          group(
            [
              alert(1, '2026-11-25T13:58:12.345Z', '2026-11-25T14:21:00.250Z'),
              alert(2, '2026-11-25T13:59:00.120Z', '2026-11-25T14:21:30.000Z'),
              alert(3, '2026-11-25T14:04:30.999Z', '2026-11-25T14:22:00.000Z'),
            ],
            'resolved',
          ),
        )
        expect(resolved.body).toMatchObject({ outcome: 'appended', incident: id })

        // People take it from there.
        expect((await run(['incident', 'ack'], 'bob')).status).toBe(0)
        const update = await run(
          [
            'incident',
            'update',
            '--sev',
            'major',
            '--title',
            'Checkout 5xx',
            '--impact-started',
            '2026-11-25T13:55:00.000Z',
            '-r',
            'LB logs',
          ],
          'bob',
        )
        expect(update.status, update.stderr).toBe(0)
        expect(update.stdout).toContain('severity SEV3 → SEV2 (raised)')
        expect((await run(['incident', 'mitigate', '-m', 'rolled back'], 'bob')).status).toBe(0)
        expect((await run(['incident', 'resolve', '-m', 'fixed'], 'bob')).status).toBe(0)

        const [list, status, pmJson, pmMd, startJson] = await Promise.all([
          run(['incident', 'list', '--json']),
          run(['incident', 'status', id, '--json']),
          run(['postmortem', id, '--format', 'json']),
          run(['postmortem', id]),
          run(['journal', '--subject', id, '--json']),
        ])
        expect(json<{ total: number }>(list).total).toBe(1)
        const pm = json<{
          metrics: Metric[]
          timeline: TimelineEntry[]
          history: { severity: Array<{ value: string; by: string; reason?: string }> }
          responders: Array<{ person: string }>
        }>(pmJson)

        // Every alert and recovery on the timeline, in order.
        const points = pm.timeline.filter((entry) => entry.kind.startsWith('alert')).map((entry) => `${entry.at} ${entry.kind}`)
        expect(points).toEqual([
          '2026-11-25T13:58:12.345Z alert firing',
          '2026-11-25T13:59:00.120Z alert firing',
          '2026-11-25T14:04:30.999Z alert firing',
          '2026-11-25T14:21:00.250Z alert resolved',
          '2026-11-25T14:21:30.000Z alert resolved',
          '2026-11-25T14:22:00.000Z alert resolved',
          '2026-11-25T14:22:00.000Z alerts resolved',
        ])
        expect(pm.timeline.map((entry) => entry.at)).toEqual([...pm.timeline.map((entry) => entry.at)].sort())

        // The figures, to the millisecond, against the journal's own times; from the corrected impact start.
        const times = new Map(
          startJson.stdout
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as { kind: string; time: string })
            .map((event) => [event.kind, event.time]),
        )
        const figure = (name: string) => pm.metrics.find((metric) => metric.name === name)!
        const impact = Date.parse('2026-11-25T13:55:00.000Z')
        expect(figure('timeToDetect').ms).toBe(Date.parse(times.get('incident.opened')!) - impact)
        expect(figure('timeToAcknowledge').ms).toBe(
          Date.parse(times.get('incident.acknowledged')!) - Date.parse(times.get('incident.opened')!),
        )
        expect(figure('timeToMitigate').ms).toBe(Date.parse(times.get('incident.mitigated')!) - impact)
        expect(figure('timeToRecover').ms).toBe(Date.parse(times.get('incident.resolved')!) - impact)
        for (const metric of pm.metrics) expect([metric.name, Boolean(metric.from), Boolean(metric.to)]).toEqual([metric.name, true, true])

        // The severity history, who changed it and why; the integration is no responder.
        expect(pm.history.severity.map((change) => [change.value, change.by, change.reason])).toEqual([
          ['SEV3', 'alertmanager', 'label severity="warning" → SEV3 (CheckoutErrors ×2)'],
          ['SEV2', 'bob', 'LB logs'],
        ])
        expect(pm.responders.map((responder) => responder.person)).toEqual(['bob'])
        expect(pmMd.stdout).toContain('| SEV2 |')

        // No secret of the payload anywhere.
        for (const output of [status.stdout, pmJson.stdout, pmMd.stdout, startJson.stdout, stdout])
          for (const secret of SECRETS) expect(output).not.toContain(secret)
        expect(JSON.parse(status.stdout).incident.alerts[0].annotations.description).toContain('postgres://svc:***@pg:5432/shop')
      } finally {
        receiver.child.kill('SIGINT')
      }
      const stopped = await receiver.done
      expect(stopped.status).toBe(130)
      for (const secret of SECRETS) expect(stopped.stderr).not.toContain(secret)
      expect(stopped.stderr).toMatch(/200 POST \/alertmanager {2}INC-\S+ a new alert group {2}\(\d+(\.\d+)? ms\)/)
      expect(stopped.stderr).toMatch(/401 POST \/alertmanager {2}missing credentials/)
    },
    CLI_TIMEOUT,
  )
})
