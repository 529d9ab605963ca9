import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/core/index.js'
import { startIncident } from './internals.js'
import { type JournalEvent } from '../../src/journal/index.js'
import { FileJournal } from '../../src/journal/file-store.js'
import { ROOT } from '../helpers/cli.js'
import { collect } from '../journal/fixtures.js'
import { opsctl } from '../journal/cli.js'
import { runbookText, tempDir, type TempDir } from './fixtures.js'

let work: TempDir
let project: string
let incidentId: string

/** Overrides the shipped high-latency runbook with a step whose effect a test can see. */
const OVERRIDE = runbookText({
  id: 'high-latency',
  front: 'id: high-latency\ntitle: High latency (our version)\nsymptoms: [high latency]\nseverity: SEV2\nowner: team-api',
  body: runbookText()
    .split('---\n')[2]!
    .replace('```sh step=check-usage\ndf -h /', '```sh step=create-marker\necho "token=hunter2hunter2 for $INCIDENT_ID"\ntouch marker.txt'),
})

beforeAll(async () => {
  work = tempDir('opsctl-runbook-cli-')
  project = join(work.path, 'project')
  mkdirSync(join(project, 'my-runbooks'), { recursive: true })
  writeFileSync(join(project, 'opsctl.yaml'), 'service:\n  name: api\nrunbooks:\n  dirs: [my-runbooks]\n')
  writeFileSync(join(project, 'my-runbooks', 'high-latency.md'), OVERRIDE)
  writeFileSync(
    join(project, 'my-runbooks', 'broken.md'),
    runbookText({ id: 'broken', front: 'id: broken\ntitle: a: b\nsymptoms: [x]\nseverity: SEV3\nowner: sre' }),
  )
  // The open incident the steps are recorded in, declared through the module (no CLI start-up needed).
  const started = await startIncident(loadConfig({ cwd: project, env: { OPSCTL_JOURNAL_URL: '' } }), {
    title: 'Slow checkout',
    severity: 'SEV2',
  })
  incidentId = started.incident.id
})
afterAll(() => work?.remove())

const run = (args: string[], cwd = project) => opsctl(args, { cwd, env: { OPSCTL_ACTOR: 'bob' } })

async function stepEvents(): Promise<JournalEvent[]> {
  const store = new FileJournal({ dir: join(project, '.opsctl', 'journal'), durable: true, segmentSize: 64 * 1024 * 1024 })
  try {
    return await collect(store.read({ kinds: ['runbook.step'] }))
  } finally {
    await store.close()
  }
}

describe('runbooks from the command line', () => {
  it('lints, lists with overrides, and runs a step only after confirmation', async () => {
    const [shipped, broken, list, refused, unknownStep] = await Promise.all([
      run(['runbook', 'lint'], ROOT),
      run(['runbook', 'lint', 'my-runbooks/broken.md', 'my-runbooks/high-latency.md']),
      run(['runbook', 'list', '--json']),
      run(['runbook', 'run', 'high-latency', '--step', 'create-marker']),
      run(['runbook', 'run', 'high-latency', '--step', 'nine']),
    ])

    // Every shipped runbook passes lint.
    expect(shipped.stdout, shipped.stderr).toMatch(/^9 runbooks checked: 9 ok, 0 errors, 0 warnings\.$/m)
    expect(shipped.status).toBe(0)

    // Broken front matter: file and line, exit 2.
    expect(broken.status).toBe(2)
    expect(broken.stdout).toMatch(/^my-runbooks\/broken\.md:3:8: invalid YAML/m)

    // runbooks.dirs overrides the shipped runbook of the same id; the broken file is listed and fails the listing (exit 1).
    expect(list.status).toBe(1)
    const library = JSON.parse(list.stdout) as {
      runbooks: Array<{ id: string; title: string; file: string }>
      overridden: Array<{ id: string }>
    }
    expect(library.runbooks.find((runbook) => runbook.id === 'high-latency')).toMatchObject({
      title: 'High latency (our version)',
      file: 'my-runbooks/high-latency.md',
    })
    expect(library.runbooks.map((runbook) => runbook.id)).toContain('slow-query')
    expect(library.overridden.map((entry) => entry.id)).toEqual(['high-latency'])
    expect(list.stderr).toMatch(/my-runbooks\/broken\.md:3:8: invalid YAML/)

    // Without --yes and without a terminal: shown, refused, nothing run.
    expect(refused.status).toBe(2)
    expect(refused.stdout).toContain('touch marker.txt')
    expect(refused.stderr).toContain('Error: Not run: step create-marker of high-latency needs a confirmation')
    expect(existsSync(join(project, 'marker.txt'))).toBe(false)

    expect(unknownStep.status).toBe(2)
    expect(unknownStep.stderr).toContain('Error: Runbook high-latency has no step "nine"')
    expect(unknownStep.stderr).toContain('1 create-marker, 2 clean-logs')
    expect(await stepEvents()).toEqual([])

    // With --yes: run, and recorded in the open incident with exit code and output tail.
    const done = await run(['runbook', 'run', 'high-latency', '--step', '1', '--yes', '--json'])
    expect(done.status, done.stderr).toBe(0)
    expect(existsSync(join(project, 'marker.txt'))).toBe(true)
    expect(JSON.parse(done.stdout)).toMatchObject({
      runbook: 'high-latency',
      step: { number: 1, name: 'create-marker' },
      incident: incidentId,
      status: 'done',
      exitCode: 0,
    })

    const [event] = await stepEvents()
    expect(event).toMatchObject({
      kind: 'runbook.step',
      subject: incidentId,
      actor: 'bob',
      links: { incident: incidentId, runbook: 'high-latency' },
    })
    expect(event!.data).toMatchObject({
      step: 'create-marker',
      status: 'done',
      exitCode: 0,
      command: expect.stringContaining('touch marker.txt'),
      outputTail: `token=*** for ${incidentId}`,
    })
  }, 240_000)
})
