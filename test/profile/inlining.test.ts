import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inliningOffFlags, planAttribution } from '../../src/profile/attribution.js'
import { profileTarget, type ProfileRun } from '../../src/profile/capture.js'
import { renderProfileRun } from '../../src/profile/render.js'
import { palette } from '../../src/core/index.js'
import { fixture, parseJson, runOpsctl, scratchDir } from './support.js'

// Issue #17: V8 inlines a hot function into its caller and the CPU profiler counts the inlined
// code's samples in the caller, so the handler ranked first. Each fixture is a small server whose
// requests spend most of their time in one function, reached in a different way; the profile must
// name that function first, by self time, in the table and in the folded stacks.
const FIXTURES: Array<{ file: string; hot: string; how: string }> = [
  { file: 'called-once.mjs', hot: 'checksum', how: 'called once per request' },
  { file: 'called-in-loop.mjs', hot: 'score', how: 'a small function called in a loop' },
  { file: 'closure.mjs', hot: 'scoreRow', how: 'a closure made by a factory' },
  { file: 'async-handler.mjs', hot: 'rankCandidates', how: 'called after awaits in an async handler' },
  { file: 'class-method.mjs', hot: 'quote', how: 'a class method' },
  { file: 'separate-module.mjs', hot: 'digest', how: 'in a module of its own' },
  { file: 'two-handlers.mjs', hot: 'normalizeVector', how: 'called from two handlers' },
  { file: 'array-callback.mjs', hot: 'addLineTotal', how: 'a callback of Array.prototype.reduce' },
  { file: 'helper-chain.mjs', hot: 'parseField', how: 'two calls below the handler' },
]

let scratch: ReturnType<typeof scratchDir>
beforeAll(() => {
  scratch = scratchDir('profile-inlining')
})
afterAll(() => scratch.remove())

const profileFixture = (file: string, extra: { keepInlining?: boolean } = {}) =>
  profileTarget({
    target: { label: file, command: ['node', fixture(`inlining/${file}`)] },
    load: { url: '/' },
    durationMs: 3000,
    connections: 2,
    renderer: 'opsctl',
    outDir: join(scratch.dir, `${file}${extra.keepInlining ? '-kept' : ''}`),
    ...extra,
  })

const ranking = (run: ProfileRun) =>
  run
    .summary!.topSelf.slice(0, 4)
    .map((stat) => `${stat.name} ${(stat.selfShare * 100).toFixed(1)}%`)
    .join(', ')

describe('the function that burns the CPU ranks first when V8 would inline it', () => {
  it.each(FIXTURES)('$hot, $how ($file)', async ({ file, hot }) => {
    const run = await profileFixture(file)
    expect(run.attribution.method).toBe('no-inlining')
    expect(run.summary!.topSelf[0]?.name, ranking(run)).toBe(hot)
    // the app's own code too, and the flame graph's frames: the folded stacks end in it
    expect(run.summary!.topSelfApp[0]?.name).toBe(hot)
    const folded = readFileSync(run.files.folded!, 'utf8')
    const leafSamples = (name: string) =>
      folded
        .split('\n')
        .filter((line) => line.slice(0, line.lastIndexOf(' ')).split(';').at(-1)?.startsWith(`${name} (`))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
    expect(leafSamples(hot)).toBe(run.summary!.topSelf[0]!.self)
  })

  it('says how samples were attributed, in the report, the flame graph and the journal', async () => {
    const run = await profileFixture('class-method.mjs')
    expect(run.attribution.nodeFlags).toContain('--no-turbo-inlining')
    expect(renderProfileRun(run, palette(false))).toContain("V8's inlining off (--no-turbo-inlining")
    expect(readFileSync(run.files.flamegraph!, 'utf8')).toContain('Attribution: Each function&#39;s own samples')
  })

  it('leaves the target alone with --keep-inlining and says that inlined functions count in their callers', async () => {
    const run = await profileFixture('class-method.mjs', { keepInlining: true })
    expect(run.attribution).toMatchObject({ method: 'v8-inlined', nodeFlags: [] })
    expect(renderProfileRun(run, palette(false))).toContain('counted in the function it was inlined into')
  })

  it('puts the attribution in the --json document and the profile.run event', async () => {
    const out = join(scratch.dir, 'cli')
    const result = await runOpsctl(
      [
        'profile',
        '--load',
        '/',
        '--duration',
        '2s',
        '--renderer',
        'opsctl',
        '--out',
        out,
        '--json',
        '--',
        'node',
        fixture('inlining/closure.mjs'),
      ],
      { cwd: scratch.dir },
    )
    expect(result.status, result.stderr).toBe(0)
    const run = parseJson<ProfileRun>(result.stdout)
    expect(run.attribution.method).toBe('no-inlining')
    expect(run.summary!.topSelf[0]!.name).toBe('scoreRow')
  })
})

describe('planAttribution', () => {
  const node = process.execPath

  it('turns inlining off with the flags this node knows', () => {
    const flags = inliningOffFlags(node)
    expect(flags[0]).toBe('--no-turbo-inlining')
    expect(planAttribution(['node', 'server.js'], node, false)).toMatchObject({ method: 'no-inlining', nodeFlags: flags })
  })

  it("keeps V8's attribution when asked, and says so", () => {
    expect(planAttribution(['node', 'server.js'], node, true)).toMatchObject({ method: 'v8-inlined', nodeFlags: [] })
  })

  it("says V8's attribution applies when the user's own node flags turn inlining back on", () => {
    const plan = planAttribution(['node', '--turbo-inlining', 'server.js'], node, false)
    expect(plan).toMatchObject({ method: 'v8-inlined', nodeFlags: [] })
    expect(plan.description).toContain('--turbo-inlining in its command')
    // a script argument of the same spelling is the app's, not node's
    expect(planAttribution(['node', 'server.js', '--turbo-inlining'], node, false).method).toBe('no-inlining')
  })

  it('still turns inlining off when the node binary cannot list its flags', () => {
    expect(planAttribution(['/nonexistent/node', 'server.js'], '/nonexistent/node', false)).toMatchObject({
      method: 'no-inlining',
      nodeFlags: ['--no-turbo-inlining'],
    })
  })
})
