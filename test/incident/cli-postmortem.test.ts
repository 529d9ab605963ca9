import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, opsctl } from '../journal/cli.js'
import { tempDir, type TempDir } from './fixtures.js'

let work: TempDir
beforeAll(() => {
  work = tempDir('opsctl-postmortem-cli-')
  work.write('opsctl.yaml', 'service:\n  name: api\n')
})
afterAll(() => work?.remove())

const ID = 'INC-20261125-SCRP'
const on = (time: string, kind: string, actor: string, data: Record<string, unknown>) => ({
  kind,
  subject: ID,
  time,
  actor,
  links: { incident: ID },
  data,
})

/** Impact at 13:50; a canary fails and rolls back before anyone declares; a flag kill mitigates. */
const SCRIPT = [
  {
    kind: 'flag.changed',
    subject: 'search.v2',
    time: '2026-11-25T13:00:00Z',
    actor: 'dana',
    data: { flag: 'search.v2', change: 'enabled' },
  },
  { kind: 'deploy.started', subject: 'api', time: '2026-11-25T13:35:00Z', actor: 'ci', data: { version: 'v42', strategy: 'canary' } },
  {
    kind: 'deploy.verdict',
    subject: 'api',
    time: '2026-11-25T13:52:00Z',
    actor: 'ci',
    data: { verdict: 'fail', reason: 'error rate 4.1% vs 0.2%' },
  },
  { kind: 'deploy.rollback', subject: 'api', time: '2026-11-25T13:53:00Z', actor: 'ci', data: { reason: 'canary failed', to: 'v41' } },
  on('2026-11-25T14:00:00Z', 'incident.opened', 'alice', {
    title: 'Checkout 5xx after v42',
    severity: 'SEV2',
    service: 'api',
    commander: 'alice',
    impactStartedAt: '2026-11-25T13:50:00Z',
  }),
  on('2026-11-25T14:04:00Z', 'incident.acknowledged', 'bob', { by: 'bob' }),
  on('2026-11-25T14:06:00Z', 'incident.note', 'carol', {
    message: 'Errors continue after the rollback\nTODO(dave): make checkout.new-flow a kill switch',
  }),
  {
    kind: 'flag.changed',
    subject: 'checkout.new-flow',
    time: '2026-11-25T14:10:00Z',
    actor: 'bob',
    data: { flag: 'checkout.new-flow', change: 'killed', reason: '5xx persist' },
  },
  on('2026-11-25T14:11:00Z', 'incident.mitigated', 'bob', { summary: 'killed checkout.new-flow' }),
  on('2026-11-25T14:40:00Z', 'incident.resolved', 'bob', { summary: 'serializer fixed in v43' }),
  { kind: 'deploy.started', subject: 'api', time: '2026-11-25T14:50:00Z', actor: 'ci', data: { version: 'v43' } },
]

describe('opsctl postmortem of a scripted incident', () => {
  it('has the canary rollback and the flag kill in its timeline, in order, and the right figures', async () => {
    const append = await opsctl(['journal', 'append', '--stdin'], { cwd: work.path, input: jsonLines(SCRIPT) })
    expect(append.status, append.stderr).toBe(0)

    const [asMarkdown, asHtml] = await Promise.all([
      opsctl(['postmortem', 'scrp'], { cwd: work.path }),
      opsctl(['postmortem', ID, '--format', 'html', '--out', 'pm/report.html'], { cwd: work.path }),
    ])
    expect(asMarkdown.status, asMarkdown.stderr).toBe(0)
    const md = asMarkdown.stdout
    expect(md).toMatch(/^# Post-mortem: INC-20261125-SCRP — Checkout 5xx after v42/)

    // The timeline: incident events and the journal's, in time order; nothing from outside the window.
    const timeline = md.slice(md.indexOf('\n## Timeline\n'))
    const rows = timeline
      .split('\n')
      .filter((line) => /^\| 2026-/.test(line))
      .map((line) => line.split(' | ').slice(0, 3).join(' ').replace(/^\| /, '').replace(/`|_/g, ''))
    expect(rows).toEqual([
      '2026-11-25T13:35:00Z -15m 00s deploy.started',
      '2026-11-25T13:50:00Z 0s impact',
      '2026-11-25T13:52:00Z +2m 00s deploy.verdict',
      '2026-11-25T13:53:00Z +3m 00s deploy.rollback',
      '2026-11-25T14:00:00Z +10m 00s incident.opened',
      '2026-11-25T14:04:00Z +14m 00s incident.acknowledged',
      '2026-11-25T14:06:00Z +16m 00s incident.note',
      '2026-11-25T14:10:00Z +20m 00s flag.changed',
      '2026-11-25T14:11:00Z +21m 00s incident.mitigated',
      '2026-11-25T14:40:00Z +50m 00s incident.resolved',
    ])
    expect(timeline).toContain('| **rollback:** rolled back to v41: canary failed |')
    expect(timeline).toContain('| **flag kill:** checkout.new-flow killed')
    expect(md).not.toContain('search.v2')
    expect(md).not.toContain('rollout of v43')

    // The figures, from the recorded times.
    expect(md).toContain('| Time to detect | 10m 00s | impact start, 2026-11-25T13:50:00Z | declaration, 2026-11-25T14:00:00Z |')
    expect(md).toContain('| Time to acknowledge | 4m 00s | declaration, 2026-11-25T14:00:00Z | acknowledgement, 2026-11-25T14:04:00Z |')
    expect(md).toContain('| Time to mitigate | 21m 00s | impact start, 2026-11-25T13:50:00Z | mitigation, 2026-11-25T14:11:00Z |')
    expect(md).toContain('| Time to recover | 50m 00s | impact start, 2026-11-25T13:50:00Z | resolution, 2026-11-25T14:40:00Z |')
    expect(md).toContain('| make checkout.new-flow a kill switch | _to be typed_ | _to be set_ | dave |')
    expect(md).toContain('> _To be written: What went well')

    expect(asHtml.status, asHtml.stderr).toBe(0)
    expect(asHtml.stderr).toContain('Wrote pm/report.html')
    const html = readFileSync(join(work.path, 'pm/report.html'), 'utf8')
    expect(html).toMatch(/^<!DOCTYPE html>/)
    expect(html).toContain('<h3>Where we got lucky</h3>')
  }, 240_000)
})
