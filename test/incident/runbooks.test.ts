import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/core/index.js'
import {
  REQUIRED_SECTIONS,
  findRunbook,
  formatProblem,
  lintRunbooks,
  loadRunbookLibrary,
  parseRunbook,
  scaffoldRunbook,
  shippedRunbooksDir,
  startIncident,
} from './internals.js'
import { runbookText, tempDir, type TempDir } from './fixtures.js'

const SHIPPED = [
  'bad-deploy',
  'cpu-saturation',
  'db-connection-exhaustion',
  'error-rate-spike',
  'feature-flag-kill',
  'high-latency',
  'memory-leak',
  'n-plus-one-regression',
  'slow-query',
]
const OPSCTL_COMMANDS =
  /\bopsctl (journal|db explain|db nplusone|db top|db plan-diff|load|flags (kill|list|show|enable|rollout)|profile( leak| diff)?|deploy rollback|incident (log|mitigate))\b/

let work: TempDir
beforeAll(() => {
  work = tempDir('opsctl-runbooks-')
})
afterAll(() => work?.remove())

describe('the shipped runbooks', () => {
  const settings = () => loadConfig({ cwd: work.path, env: {} })

  it('are the nine templates, and every one passes lint without a warning', () => {
    const library = loadRunbookLibrary(settings())
    expect(library.runbooks.map((runbook) => runbook.id)).toEqual(SHIPPED)
    expect(library.broken).toEqual([])
    const report = lintRunbooks(settings(), [])
    expect(report.files.flatMap((file) => file.problems.map(formatProblem))).toEqual([])
    expect(report.files).toHaveLength(9)
  })

  it('give every section, named steps in triage and mitigation, and commands of opsctl and standard tools', () => {
    for (const runbook of loadRunbookLibrary(settings()).runbooks) {
      expect(
        runbook.sections.filter((section) => section.key).map((section) => section.key),
        runbook.id,
      ).toEqual(REQUIRED_SECTIONS.map((section) => section.key))
      expect(
        runbook.steps.some((step) => step.section === 'mitigation'),
        runbook.id,
      ).toBe(true)
      expect(runbook.steps.length, runbook.id).toBeGreaterThanOrEqual(4)
      expect(
        runbook.steps.some((step) => OPSCTL_COMMANDS.test(step.command)),
        runbook.id,
      ).toBe(true)
      expect(runbook.symptoms.length, runbook.id).toBeGreaterThanOrEqual(3)
    }
  })

  it('the template is not a runbook until `runbook new` fills it in, and then it passes lint', () => {
    const template = readFileSync(join(shippedRunbooksDir(), '_template.md'), 'utf8')
    expect(parseRunbook(template, '_template.md').runbook).toBeUndefined()
    const created = scaffoldRunbook(settings(), {
      id: 'queue-backlog',
      title: 'Queue backlog: "orders" growing',
      owner: 'team-payments',
      dir: join(work.path, 'mine'),
    })
    const report = lintRunbooks(undefined, [join(work.path, 'mine', 'queue-backlog.md')])
    expect(report.files[0]!.problems.map(formatProblem)).toEqual([])
    expect(report.files[0]!.id).toBe('queue-backlog')
    expect(created.id).toBe('queue-backlog')
    expect(() => scaffoldRunbook(settings(), { id: 'queue-backlog', dir: join(work.path, 'mine') })).toThrow(/already exists/)
    expect(() => scaffoldRunbook(settings(), { id: '../escape' })).toThrow(/Invalid runbook id/)
  })
})

describe('runbook directories', () => {
  it('a configured directory overrides a shipped runbook with the same id and adds its own', () => {
    work.write('opsctl.yaml', 'runbooks:\n  dirs: [team, more]\n')
    const team = join(work.path, 'team')
    const more = join(work.path, 'more')
    for (const dir of [team, more]) mkdirSync(dir, { recursive: true })
    work.write('team/high-latency.md', runbookText({ id: 'high-latency' }))
    work.write(
      'more/high-latency.md',
      runbookText({ id: 'high-latency', front: 'id: high-latency\ntitle: Latest\nsymptoms: [slow]\nseverity: 1\nowner: me' }),
    )
    work.write('more/disk-full.md', runbookText())
    work.write('more/README.md', '# not a runbook')
    const library = loadRunbookLibrary(loadConfig({ cwd: work.path, env: {} }))
    expect(findRunbook(library, 'high-latency')).toMatchObject({ title: 'Latest', severity: 'SEV1' })
    expect(findRunbook(library, 'disk-full').title).toBe('Disk full')
    expect(library.overridden.map((entry) => entry.by.replace(/\\/g, '/'))).toEqual([
      expect.stringMatching(/team\/high-latency\.md$/),
      expect.stringMatching(/more\/high-latency\.md$/),
    ])
    expect(() => findRunbook(library, 'nope')).toThrow(/No runbook "nope"/)
  })

  it('a configured directory that does not exist is bad input naming it, but never stops a declaration', async () => {
    work.write('opsctl.yaml', 'runbooks:\n  dirs: [missing-dir]\n')
    const settings = loadConfig({ cwd: work.path, env: {} })
    expect(() => loadRunbookLibrary(settings)).toThrow(/runbooks.dirs: missing-dir is not a directory/)
    const notes: string[] = []
    const started = await startIncident(
      settings,
      { title: 'High latency on search', severity: 'SEV3' },
      { note: (message) => notes.push(message) },
    )
    expect(started).toMatchObject({ created: true, runbooks: [] })
    expect(notes).toEqual([expect.stringMatching(/^Runbooks not matched: runbooks.dirs: missing-dir is not a directory/)])
  })
})
