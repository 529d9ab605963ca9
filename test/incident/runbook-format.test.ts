import { describe, expect, it } from 'vitest'
import { findStep, formatProblem, parseRunbook, type ParsedRunbook } from './internals.js'
import { runbookText } from './fixtures.js'

const FILE = 'runbooks/disk-full.md'
const parse = (text: string): ParsedRunbook => parseRunbook(text, FILE)
const problems = (text: string) => parse(text).problems.map(formatProblem)

describe('a valid runbook', () => {
  const { runbook, problems: found } = parse(runbookText())

  it('has its front matter, sections and numbered, named steps', () => {
    expect(found).toEqual([])
    expect(runbook).toMatchObject({
      id: 'disk-full',
      title: 'Disk full',
      symptoms: ['disk full'],
      alerts: ['DiskFull*'],
      severity: 'SEV3',
      owner: 'sre',
      tags: [],
    })
    expect(runbook!.sections.map((section) => section.key)).toEqual([
      'summary',
      'detection',
      'triage',
      'mitigation',
      'verification',
      'escalation',
      'rollback',
    ])
    expect(runbook!.steps).toMatchObject([
      { number: 1, name: 'check-usage', language: 'sh', command: 'df -h /', section: 'detection', description: 'Check usage', line: 18 },
      { number: 2, name: 'clean-logs', command: 'echo cleaning', section: 'mitigation', description: 'Delete old logs' },
    ])
  })

  it('finds a step by number or by name', () => {
    expect(findStep(runbook!, '2')?.name).toBe('clean-logs')
    expect(findStep(runbook!, 'check-usage')?.number).toBe(1)
    expect(findStep(runbook!, '3')).toBeUndefined()
    expect(findStep(runbook!, 'nope')).toBeUndefined()
  })

  it('accepts severity as a number, CRLF line ends and a BOM', () => {
    const text =
      `\uFEFF${runbookText({ front: 'id: disk-full\ntitle: Disk full\nsymptoms: [disk full]\nseverity: 2\nowner: sre' })}`.replace(
        /\n/g,
        '\r\n',
      )
    const parsed = parse(text)
    expect(parsed.problems).toEqual([])
    expect(parsed.runbook?.severity).toBe('SEV2')
    expect(parsed.runbook?.steps[0]?.command).toBe('df -h /')
  })
})

describe('broken front matter is reported with file and line', () => {
  it('a YAML syntax error, at its line in the Markdown file', () => {
    const found = parse(
      runbookText({ front: 'id: disk-full\ntitle: Disk full\nsymptoms: [disk full\nseverity: SEV3\nowner: sre' }),
    ).problems
    expect(found[0]).toMatchObject({ fatal: true, line: expect.any(Number) })
    expect(found[0]!.line).toBeGreaterThanOrEqual(4)
    expect(formatProblem(found[0]!)).toMatch(/^runbooks\/disk-full\.md:\d+:\d+: invalid YAML/)
  })

  it('a wrong value and a missing key, each at its line', () => {
    expect(problems(runbookText({ front: 'id: Disk Full\ntitle: Disk full\nsymptoms: [disk full]\nseverity: SEV9' }))).toEqual([
      'runbooks/disk-full.md:2:1: owner: missing (expected string)',
      'runbooks/disk-full.md:2:5: id: an id is lowercase letters, digits and -, up to 64 characters',
      'runbooks/disk-full.md:5:11: severity: expected SEV1, SEV2, SEV3, SEV4, SEV5 (or 1 to 5)',
    ])
  })

  it('an unknown key, with the key it probably meant', () => {
    expect(
      problems(runbookText({ front: 'id: disk-full\ntitle: Disk full\nsymptom: [disk full]\nsymptoms: [x]\nseverity: SEV3\nowner: sre' })),
    ).toEqual(['runbooks/disk-full.md:4:1: unknown key "symptom" (did you mean "symptoms"?)'])
  })

  it('no front matter, an unclosed one, or one that is not a mapping', () => {
    expect(problems('# Disk full\n')).toEqual(['runbooks/disk-full.md:1:1: no front matter: the first line must be ---'])
    expect(problems('---\nid: x\n# Disk full\n')).toEqual([
      'runbooks/disk-full.md:1:1: the front matter opened on line 1 is never closed with a --- line',
    ])
    expect(problems('---\n- a\n- b\n---\n')).toEqual([
      'runbooks/disk-full.md:2:1: the front matter must be a mapping of keys (id, title, symptoms, alerts, severity, owner)',
    ])
  })
})

describe('lint rules', () => {
  const body = (replace: (text: string) => string) => runbookText({ body: replace(runbookText().split('---\n')[2]!) })

  it('every command block is named', () => {
    expect(problems(body((text) => text.replace('```sh step=check-usage', '```sh')))).toEqual([
      'runbooks/disk-full.md:18: a sh command block without a name: add step=NAME (e.g. ```sh step=check-errors)',
    ])
  })

  it('a block without a language, a duplicate name, an unknown attribute, a bad name, an empty command', () => {
    const text = body((lines) =>
      lines
        .replace('```sh step=check-usage', '```')
        .replace(
          '```sh step=clean-logs\necho cleaning',
          '```sh step=clean-logs\necho a\n```\n\n```bash step=clean-logs\necho b\n```\n\n```sh stpe=x\necho c\n```\n\n```sh step=Bad_Name\necho d\n```\n\n```sh step=empty\n',
        ),
    )
    const found = problems(text)
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/:18: a code block without a language/),
        expect.stringMatching(/: step name "clean-logs" is used twice \(first on line \d+\)/),
        expect.stringMatching(/: unknown attribute "stpe" on a code block/),
        expect.stringMatching(/: step name "Bad_Name" must be lowercase/),
        expect.stringMatching(/: step "empty" has no command/),
      ]),
    )
  })

  it('names only runnable blocks: a named sql block is an error, an unnamed one is fine', () => {
    expect(problems(body((text) => text.replace('## Verification', '## Verification\n\n```sql\nselect 1\n```\n')))).toEqual([])
    expect(problems(body((text) => text.replace('## Verification', '## Verification\n\n```sql step=count\nselect 1\n```\n')))[0]).toMatch(
      /step "count" is a sql block; only sh, bash, shell, zsh blocks are runnable steps/,
    )
  })

  it('every required section, once, not empty', () => {
    const found = problems(
      body((text) =>
        text
          .replace('## Rollback\nNothing to undo.', '')
          .replace('## Escalation\nPage the platform team.', '## Escalation\n\n## Summary\nagain'),
      ),
    )
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/: missing section "## Rollback"/),
        expect.stringMatching(/: section "## Escalation" is empty/),
        expect.stringMatching(/: section "## Summary" appears twice \(first on line 12\)/),
      ]),
    )
  })

  it('an unclosed code block, at the line it opens', () => {
    expect(
      problems(body((text) => text.replace('echo cleaning\n```', 'echo cleaning'))).some((line) =>
        /:28: the code block opened here is never closed/.test(line),
      ),
    ).toBe(true)
  })

  it('warns (without failing) about an id that differs from the file name', () => {
    const parsed = parseRunbook(runbookText(), 'runbooks/other.md')
    expect(parsed.problems).toEqual([
      expect.objectContaining({ level: 'warning', message: 'the id "disk-full" differs from the file name "other.md"' }),
    ])
  })
})

describe('hostile files', () => {
  it('refuse a command hidden by escape sequences or bidi overrides', () => {
    const found = problems(runbookText().replace('echo cleaning', 'echo safe\u001B[2K\rrm -rf ~').replace('df -h /', 'df \u202Eh- /'))
    expect(found).toEqual(
      expect.arrayContaining([expect.stringMatching(/:19:\d+: .*U\+202E/), expect.stringMatching(/:29:\d+: .*U\+001B/)]),
    )
  })

  it('refuse binary files and YAML alias bombs without hanging', () => {
    expect(problems('---\nid: x\u0000\n---\n')).toEqual(['runbooks/disk-full.md:1: not a text file (it contains NUL bytes)'])
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n')
    const parsed = parse(`---\n${bomb}\n---\n`)
    expect(parsed.runbook).toBeUndefined()
    expect(parsed.problems[0]!.fatal).toBe(true)
  })

  it('survive a fence flood and a very long line', () => {
    const text = runbookText({ body: `${'```\n'.repeat(5000)}${'x'.repeat(200_000)}\n` })
    const parsed = parse(text)
    expect(parsed.runbook).toBeDefined()
    expect(parsed.problems.length).toBeGreaterThan(0)
  })
})
