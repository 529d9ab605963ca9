import '../../src/cli/event-catalog.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixedClock } from '../../src/core/index.js'
import { createIdGenerator, type JournalEvent } from '../../src/journal/index.js'
import { buildEvent } from '../../src/journal/event.js'

/** Events of one incident built the way the journal builds them, each at its own minute offset from a base time. */
export function timeline(base = '2026-11-25T14:00:00.000Z') {
  const ids = createIdGenerator()
  const at = (minutes: number) => new Date(Date.parse(base) + minutes * 60_000).toISOString()
  const event = (
    minutes: number,
    input: { kind: string; subject?: string; data?: Record<string, unknown>; links?: Record<string, string> },
    actor = 'alice',
  ): JournalEvent => {
    const built = buildEvent({ subject: 'api', ...input }, { clock: fixedClock(at(minutes)), actor, ids })
    if (!built.ok) throw new Error(built.reason)
    return built.value
  }
  const incident = (id: string) => {
    const on = (minutes: number, kind: string, data: Record<string, unknown> = {}, actor = 'alice') =>
      event(minutes, { kind, subject: id, data, links: { incident: id } }, actor)
    return {
      opened: (minutes: number, data: Record<string, unknown> = {}, actor = 'alice') =>
        on(minutes, 'incident.opened', { title: 'Checkout errors', severity: 'SEV2', ...data }, actor),
      ack: (minutes: number, actor = 'bob') => on(minutes, 'incident.acknowledged', { by: actor }, actor),
      mitigated: (minutes: number, summary?: string, actor = 'bob') => on(minutes, 'incident.mitigated', summary ? { summary } : {}, actor),
      resolved: (minutes: number, summary?: string, actor = 'bob') => on(minutes, 'incident.resolved', summary ? { summary } : {}, actor),
      cancelled: (minutes: number, reason?: string, actor = 'bob') => on(minutes, 'incident.cancelled', reason ? { reason } : {}, actor),
      note: (minutes: number, message: string, actor = 'carol', extra: Record<string, unknown> = {}) =>
        on(minutes, 'incident.note', { message, ...extra }, actor),
      role: (minutes: number, role: string, person: string, actor = 'alice') => on(minutes, 'incident.role', { role, person }, actor),
    }
  }
  return { at, event, incident }
}

export interface TempDir {
  path: string
  write(name: string, text: string): string
  remove(): void
}

export function tempDir(prefix = 'opsctl-incident-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {
    path,
    write(name, text) {
      const file = join(path, name)
      writeFileSync(file, text)
      return file
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  }
}

/** A minimal valid runbook; `front` replaces the front matter, `body` the sections. */
export function runbookText(options: { id?: string; front?: string; body?: string } = {}): string {
  const id = options.id ?? 'disk-full'
  const front = options.front ?? `id: ${id}\ntitle: Disk full\nsymptoms:\n  - disk full\nalerts: [DiskFull*]\nseverity: SEV3\nowner: sre`
  const body =
    options.body ??
    [
      '# Disk full',
      '',
      '## Summary',
      'The disk fills up.',
      '',
      '## Detection',
      '- Check usage:',
      '',
      '```sh step=check-usage',
      'df -h /',
      '```',
      '',
      '## Triage checklist',
      '- [ ] Which directory grows?',
      '',
      '## Mitigation',
      'Delete old logs:',
      '',
      '```sh step=clean-logs',
      'echo cleaning',
      '```',
      '',
      '## Verification',
      'Usage under 80%.',
      '',
      '## Escalation',
      'Page the platform team.',
      '',
      '## Rollback',
      'Nothing to undo.',
    ].join('\n')
  return `---\n${front}\n---\n${body}\n`
}

export interface WebhookAlert {
  status: string
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt: string
  endsAt?: string
  generatorURL?: string
  fingerprint?: string
}

/** A webhook body as Alertmanager 0.27 sends it. */
export function alertmanagerPayload(overrides: Record<string, unknown> = {}) {
  const alerts: WebhookAlert[] = [
    {
      status: 'firing',
      labels: { alertname: 'HighRequestLatency', service: 'api', severity: 'critical', instance: 'api-1:3000' },
      annotations: { summary: 'p99 latency of api above 500ms', description: 'The p99 of /users/:id/orders is 1.2s.' },
      startsAt: '2026-11-25T13:58:12.345678901Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=...',
      fingerprint: 'c6d8f2a1b3e4d5f6',
    },
    {
      status: 'firing',
      labels: { alertname: 'HighErrorRate', service: 'api', severity: 'warning' },
      annotations: { summary: '5xx above 2%' },
      startsAt: '2026-11-25T14:01:00Z',
      endsAt: '0001-01-01T00:00:00Z',
    },
  ]
  return {
    receiver: 'opsctl',
    status: 'firing',
    alerts,
    groupLabels: { service: 'api' },
    commonLabels: { service: 'api' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{service="api"}',
    truncatedAlerts: 0,
    ...overrides,
  }
}

/** GET /api/v2/alerts of Alertmanager 0.27: `status` is an object, and there is no groupKey. */
export function apiV2Alerts() {
  const alert = (instance: string, state: string, silencedBy: string[]) => ({
    annotations: { summary: `p99 latency of ${instance} above 500ms`, runbook_url: 'https://runbooks.example/high-latency.md' },
    endsAt: '2026-11-25T14:10:00.000Z',
    fingerprint: instance === 'api-1:3000' ? '0a1b2c3d4e5f6071' : '1b2c3d4e5f607182',
    receivers: [{ name: 'opsctl' }],
    startsAt: '2026-11-25T13:58:12.345Z',
    status: { inhibitedBy: [], silencedBy, state },
    updatedAt: '2026-11-25T14:02:00.000Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=histogram_quantile',
    labels: { alertname: 'HighRequestLatency', service: 'api', severity: 'critical', instance },
  })
  return [alert('api-1:3000', 'active', []), alert('api-2:3000', 'suppressed', ['5a9c3f2e-silence'])]
}
