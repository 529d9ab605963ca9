import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isOpsError, loadConfig, type Settings } from '../../src/core/index.js'
import {
  actOnIncident,
  assignIncidentRole,
  generatePostmortem,
  incidentStatus,
  listIncidents,
  logIncidentNote,
  startIncident,
} from './internals.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { opsctl } from '../journal/cli.js'
import { alertmanagerPayload, tempDir, type TempDir } from './fixtures.js'

let database: TestDatabase
let work: TempDir
let settings: Settings

beforeAll(async () => {
  database = await createTestDatabase('incident_pg')
  work = tempDir('opsctl-incident-pg-')
  work.write('opsctl.yaml', 'service:\n  name: api\n')
  settings = loadConfig({ cwd: work.path, env: { OPSCTL_JOURNAL_URL: database.url } })
})
afterAll(async () => {
  work?.remove()
  await database?.drop()
})

const as = (actor: string) => ({ env: { ...process.env, OPSCTL_ACTOR: actor } })

describe('the incident lifecycle on the PostgreSQL journal', () => {
  it('declares, acts from several responders at once, refuses a bad transition, and writes the post-mortem', async () => {
    expect(settings.config.journal.url).toBe(database.url)
    const { incident } = await startIncident(
      settings,
      { title: 'Orders API 5xx', severity: 'SEV1', service: 'api', commander: 'alice', impactStarted: '3m' },
      as('alice'),
    )

    await Promise.all([
      actOnIncident(settings, { action: 'acknowledge' }, as('bob')),
      logIncidentNote(settings, { message: 'Pool exhausted\nTODO: cap the pool per instance', owner: 'db-team' }, as('carol')),
      assignIncidentRole(settings, { role: 'scribe', person: 'carol' }, as('alice')),
    ])
    await actOnIncident(settings, { action: 'mitigate', text: 'restarted the workers' }, as('bob'))
    await actOnIncident(settings, { action: 'resolve', incident: incident.id, text: 'pool capped' }, as('bob'))

    const refused = await actOnIncident(settings, { action: 'acknowledge', incident: incident.id }, as('dave')).catch(
      (error: unknown) => error,
    )
    expect(isOpsError(refused) && refused.exit).toBe(1)

    const { incident: state, metrics } = await incidentStatus(settings, incident.id)
    expect(state).toMatchObject({
      status: 'resolved',
      acknowledgedBy: 'bob',
      roles: { commander: 'alice', scribe: 'carol' },
      mitigation: 'restarted the workers',
      resolution: 'pool capped',
    })
    expect(state.actionItems).toEqual([expect.objectContaining({ text: 'cap the pool per instance', owner: 'db-team' })])
    expect(metrics.every((metric) => metric.ms !== undefined && metric.ms >= 0)).toBe(true)

    const { postmortem } = await generatePostmortem(settings, { incident: incident.id, format: 'md', leadInMs: 0 })
    expect(postmortem.timeline.filter((entry) => entry.source === 'incident').map((entry) => entry.kind)).toEqual(
      expect.arrayContaining([
        'incident.opened',
        'incident.acknowledged',
        'incident.note',
        'incident.role',
        'incident.mitigated',
        'incident.resolved',
      ]),
    )

    // The same state from the CLI, on the same PostgreSQL journal.
    const cli = await opsctl(['incident', 'status', incident.id, '--json'], { cwd: work.path, env: { OPSCTL_JOURNAL_URL: database.url } })
    expect(cli.status, cli.stderr).toBe(0)
    expect(JSON.parse(cli.stdout).incident).toMatchObject({ id: incident.id, status: 'resolved', acknowledgedBy: 'bob' })
  })

  it('gives the incident already open when Alertmanager delivers the same alert group again', async () => {
    const text = JSON.stringify(alertmanagerPayload({ groupKey: '{}:{alertname="HighErrorRate"}' }))
    const first = await startIncident(settings, { alertmanagerFile: '-', alertmanagerText: text }, as('alertmanager'))
    const second = await startIncident(settings, { alertmanagerFile: '-', alertmanagerText: text }, as('alertmanager'))
    expect(first.created).toBe(true)
    expect(second).toMatchObject({ created: false, incident: { id: first.incident.id } })
    const open = await listIncidents(settings, { open: true })
    expect(open.incidents.map((incident) => incident.id)).toEqual([first.incident.id])
  })
})
