import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { opsctl, type Run } from '../journal/cli.js'
import { alertmanagerPayload, tempDir, type TempDir } from './fixtures.js'

/** Each wave of CLI processes starts opsctl from the TypeScript sources: generous on a shared two-core machine. */
const CLI_TIMEOUT = 240_000

let work: TempDir
beforeAll(() => {
  work = tempDir('opsctl-incident-cli-')
})
afterAll(() => work?.remove())

let count = 0
/** A project of its own (opsctl.yaml, so its own .opsctl/journal) and the commands run in it. */
function project() {
  const path = join(work.path, `project-${++count}`)
  mkdirSync(path)
  writeFileSync(join(path, 'opsctl.yaml'), 'service:\n  name: api\n')
  const run = (args: string[], actor = 'alice', input = ''): Promise<Run> =>
    opsctl(args, { cwd: path, env: { OPSCTL_ACTOR: actor }, input })
  return { path, run }
}

function json<T = Record<string, unknown>>(run: Run): T {
  expect(run.stderr, run.stderr).not.toMatch(/^Error:/m)
  expect(run.status, run.stderr).toBe(0)
  return JSON.parse(run.stdout) as T
}

interface IncidentJson {
  id: string
  status: string
  acknowledgedBy?: string
  notes: Array<{ message: string; by: string }>
  actionItems: Array<{ text: string; owner?: string }>
  responders: string[]
  roles: Record<string, string>
}

describe('an incident from two terminals', () => {
  it(
    'keeps a note and an acknowledgement made at the same moment, and refuses what its state forbids',
    async () => {
      const { run } = project()
      const started = json<{ incident: IncidentJson }>(
        await run([
          'incident',
          'start',
          'Checkout returns 500s',
          '--sev',
          '2',
          '--service',
          'api',
          '--commander',
          'alice',
          '--impact-started',
          '5m',
          '--json',
        ]),
      )
      const id = started.incident.id
      expect(id).toMatch(/^INC-\d{8}-[0-9A-Z]{4}$/)

      // Two responders, two processes, at once.
      const [note, ack] = await Promise.all([
        run(['incident', 'log', 'Error rate 4% on /checkout\nTODO(dave): alert on the serializer', '--json'], 'carol'),
        run(['incident', 'ack', '--json'], 'bob'),
      ])
      expect(json(note)).toMatchObject({ actionItems: [{ text: 'alert on the serializer', owner: 'dave' }] })
      expect(json(ack)).toMatchObject({ written: true })

      const resolved = json<{ incident: IncidentJson }>(
        await run(['incident', 'resolve', id.slice(-4).toLowerCase(), '-m', 'serializer fixed', '--json'], 'bob'),
      )
      expect(resolved.incident.status).toBe('resolved')

      const [statusJson, humanStatus, cancel] = await Promise.all([
        run(['incident', 'status', id, '--json'], 'alice'),
        run(['incident', 'status', id], 'bob'),
        run(['incident', 'cancel', id], 'bob'),
      ])
      // Both responders' acts are in the state.
      const status = json<{ incident: IncidentJson; metrics: Array<{ name: string; ms?: number }> }>(statusJson)
      expect(status.incident).toMatchObject({ id, status: 'resolved', acknowledgedBy: 'bob', roles: { commander: 'alice' } })
      expect(status.incident.notes).toEqual([
        expect.objectContaining({ message: 'Error rate 4% on /checkout\nTODO(dave): alert on the serializer', by: 'carol' }),
      ])
      expect(status.incident.responders).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']))
      expect(status.metrics.find((metric) => metric.name === 'timeToDetect')!.ms).toBe(5 * 60_000)

      expect(cancel.status).toBe(1)
      expect(cancel.stderr).toContain(`Error: ${id} was resolved at`)
      expect(humanStatus.stdout).toMatch(/acknowledged\s+.* by bob/)
      expect(humanStatus.stdout).toContain('note: Error rate 4% on /checkout')
      expect(humanStatus.stdout).toContain('alert on the serializer (owner dave)')
    },
    CLI_TIMEOUT,
  )
})

describe('incident start --from-alertmanager', () => {
  it(
    'declares from the payload and names the matching runbooks, gives concurrent declarations distinct ids; a malformed payload is exit 2 with file and position',
    async () => {
      const { path, run } = project()
      const withSecret = alertmanagerPayload()
      withSecret.alerts[0]!.annotations.dashboard = 'https://grafana.example/d/api?orgId=1&token=gr4fanaT0ken99'
      withSecret.alerts[0]!.annotations.description = 'Pool postgres://app:pg-Pa55word@db/orders exhausted'
      const payload = JSON.stringify(withSecret, null, 2)
      writeFileSync(join(path, 'bad.json'), payload.replace('"startsAt": "2026-11-25T14:01:00Z"', '"startsAt": 1764079260'))
      const [started, bad, other, another] = await Promise.all([
        run(['incident', 'start', '--from-alertmanager', '-', '--json'], 'alertmanager', payload),
        run(['incident', 'start', '--from-alertmanager', 'bad.json']),
        // Two more declarations from two more terminals at the same time: three distinct ids.
        run(['incident', 'start', 'Search is slow', '--sev', '3', '--json'], 'bob'),
        run(['incident', 'start', 'Search is slow', '--sev', '3', '--json'], 'carol'),
      ])
      const ids = [started, other, another].map((result) => json<{ incident: IncidentJson }>(result).incident.id)
      expect(new Set(ids).size).toBe(3)
      const result = json<{
        created: boolean
        severitySource: string
        incident: IncidentJson & { title: string; severity: string; service: string; impactStartedAt?: string; alertsStartedAt: string }
        runbooks: Array<{ id: string }>
      }>(started)
      // The title names the whole group; critical is SEV1 (its name), and the output says which label gave it.
      expect(result.incident).toMatchObject({
        title: 'HighRequestLatency, HighErrorRate: 2 alerts firing (service=api)',
        severity: 'SEV1',
        service: 'api',
        alertsStartedAt: '2026-11-25T13:58:12.345Z',
      })
      expect(result.incident.impactStartedAt).toBeUndefined()
      expect(result.severitySource).toBe(
        'label severity="critical" → SEV1 (HighRequestLatency), severity="warning" → SEV3 (HighErrorRate); the worst wins',
      )
      expect(result.runbooks.map((match) => match.id)).toEqual(expect.arrayContaining(['high-latency', 'error-rate-spike']))
      // The alerts keep their context, redacted like everything the journal records.
      expect(started.stdout).toContain('postgres://app:***@db/orders')
      for (const secret of ['gr4fanaT0ken99', 'pg-Pa55word']) expect(started.stdout).not.toContain(secret)
      expect(bad.status).toBe(2)
      expect(bad.stderr).toMatch(/Error: bad\.json:\d+:\d+: alerts\[1\]\.startsAt: expected an RFC 3339 time/)
    },
    CLI_TIMEOUT,
  )
})
