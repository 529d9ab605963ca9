// How fast `opsctl incident receive` answers Alertmanager, as the journal grows: a new group
// (opens an incident), a re-notification with a new alert (appends), and a redelivery (writes
// nothing), side by side with the floor of any webhook receiver: a bare node:http server that
// parses the JSON and answers 200 without recording anything. Real file journal, durable (fsync),
// on loopback; requests one at a time, as Alertmanager sends one notification per group.
// npm run bench -- incident-receiver [deliveries per kind, default 60]
import { execSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import '../src/cli/event-catalog.js'
import { loadConfig } from '../src/core/index.js'
import { openJournal, recordEvent } from '../src/journal/index.js'
import { receiverOptions, startAlertReceiver } from '../src/incident/receiver.js'

const TOKEN = 'bench-receiver-token-0123456789'

function payload(group: number, alerts: number) {
  return {
    version: '4',
    groupKey: `{}:{alertname="HighRequestLatency", service="svc-${group}"}`,
    status: 'firing',
    receiver: 'opsctl',
    groupLabels: { alertname: 'HighRequestLatency', service: `svc-${group}` },
    commonLabels: { alertname: 'HighRequestLatency', service: `svc-${group}`, severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: Array.from({ length: alerts }, (_, n) => ({
      status: 'firing',
      labels: { alertname: 'HighRequestLatency', service: `svc-${group}`, severity: 'critical', instance: `svc-${group}-${n}:3000` },
      annotations: {
        summary: `p99 of instance ${n} above 500ms`,
        description: 'The p99 of /orders is 1.2s.',
        runbook_url: 'https://runbooks/high-latency.md',
      },
      startsAt: new Date(Date.UTC(2026, 10, 25, 13, 0, n)).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=latency',
      fingerprint: `${group.toString(16).padStart(8, '0')}${n.toString(16).padStart(8, '0')}`,
    })),
  }
}

async function post(url: string, body: unknown): Promise<number> {
  const started = performance.now()
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  })
  await response.arrayBuffer()
  if (response.status !== 200) throw new Error(`answered ${response.status}`)
  return performance.now() - started
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return `${at(0.5).toFixed(1)} | ${at(0.95).toFixed(1)} | ${sorted.at(-1)!.toFixed(1)}`
}

/** Incident events already in the journal (other incidents, closed), as a team's journal holds them after months. */
async function fill(dir: string, incidents: number): Promise<void> {
  const settings = loadConfig({ cwd: dir, env: { OPSCTL_JOURNAL_DURABLE: 'false' } })
  const store = await openJournal(settings)
  try {
    for (let i = 0; i < incidents; i++) {
      const id = `INC-20260101-H${i.toString(36).toUpperCase().padStart(4, '0')}`
      // Weeks old, as they are when a new alert arrives.
      const time = (step: number) => new Date(Date.UTC(2026, 0, 1) + i * 3_600_000 + step * 60_000).toISOString()
      let step = 0
      const on = (kind: string, data: Record<string, unknown>) =>
        recordEvent(store, { kind, subject: id, links: { incident: id }, data, time: time(step++) })
      await on('incident.opened', { title: `old incident ${i}`, severity: 'SEV3', source: 'cli' })
      await on('incident.acknowledged', { by: 'bob' })
      await on('incident.note', { message: 'looked at it' })
      await on('incident.resolved', { summary: 'fixed' })
    }
  } finally {
    await store.close()
  }
}

export default async function run(args: string[]): Promise<string> {
  const rounds = Number(args[0] ?? 60)
  const rows: string[] = []
  for (const history of [0, 1000, 5000]) {
    const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-receiver-'))
    try {
      writeFileSync(join(dir, 'opsctl.yaml'), 'service:\n  name: bench\n')
      await fill(dir, history)
      const settings = loadConfig({ cwd: dir, env: { OPSCTL_INCIDENT_RECEIVER_TOKEN: TOKEN } })
      const receiver = await startAlertReceiver(settings, receiverOptions(settings, { port: 0 }))
      const opened: number[] = []
      const appended: number[] = []
      const redelivered: number[] = []
      try {
        for (let group = 0; group < rounds; group++) {
          opened.push(await post(receiver.url, payload(group, 3)))
          appended.push(await post(receiver.url, payload(group, 4)))
          redelivered.push(await post(receiver.url, payload(group, 4)))
        }
      } finally {
        await receiver.stop()
      }
      const events = history * 4
      rows.push(`| opsctl, ${events} events before | opened | ${summary(opened)} |`)
      rows.push(`| opsctl, ${events} events before | appended | ${summary(appended)} |`)
      rows.push(`| opsctl, ${events} events before | redelivery (unchanged) | ${summary(redelivered)} |`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  // The floor: parse and answer, record nothing.
  const bare = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'))
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    })
  })
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`
  const floor: number[] = []
  for (let group = 0; group < rounds * 3; group++) floor.push(await post(url, payload(group, 4)))
  await new Promise<void>((resolve) => bare.close(() => resolve()))
  rows.push(`| bare node:http (parse, answer, record nothing) | any | ${summary(floor)} |`)

  const load = execSync('uptime', { encoding: 'utf8' }).trim()
  return [
    `${rounds} groups per journal size; each opened (3 alerts), re-notified with a 4th alert, then redelivered. Durable file journal; answer time measured by the client (fetch) on loopback, milliseconds.`,
    '',
    '| receiver | delivery | p50 | p95 | max |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    '',
    `\`uptime\` at the end: ${load}`,
  ].join('\n')
}
