import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { profileTarget } from '../../src/profile/capture.js'
import type { DiffRun } from '../../src/profile/diff-files.js'
import type { LeakRun } from '../../src/profile/leak-run.js'
import { fixture, parseJson, runOpsctl, scratchDir } from './support.js'

let scratch: ReturnType<typeof scratchDir>
beforeAll(() => {
  scratch = scratchDir('profile-diff')
})
afterAll(() => scratch.remove())

describe('opsctl profile diff', () => {
  it('puts the deliberately slowed function first and fails --max-growth', async () => {
    const profileOf = (name: string, env: NodeJS.ProcessEnv) =>
      profileTarget({
        target: { label: 'diff-server.mjs', command: ['node', fixture('diff-server.mjs')], env },
        load: { url: '/' },
        durationMs: 3000,
        connections: 2,
        renderer: 'opsctl',
        outDir: join(scratch.dir, name),
      })
    await profileOf('fast', {})
    await profileOf('slow', { SLOW_SCORING: '1' })

    const html = join(scratch.dir, 'diff.html')
    const failed = await runOpsctl(
      ['profile', 'diff', join(scratch.dir, 'fast'), join(scratch.dir, 'slow'), '--max-growth', '5%', '--out', html, '--json'],
      { cwd: scratch.dir },
    )
    expect(failed.status, failed.stderr).toBe(1)
    const diff = parseJson<DiffRun>(failed.stdout)
    expect(diff.changes[0]).toMatchObject({ name: 'scoreCandidates' })
    expect(diff.changes[0]!.selfDelta).toBeGreaterThan(0.05)
    expect(diff.gate).toMatchObject({ maxGrowth: 0.05, passed: false })
    expect(diff.gate!.exceeded[0]!.name).toBe('scoreCandidates')
    expect(failed.stderr).toContain('grew by more than 5% of self time; worst: scoreCandidates')
    const page = readFileSync(html, 'utf8')
    expect(page).toContain('scoreCandidates')
    expect(page).toMatch(/fill="rgb\(250, \d+, \d+\)"/)

    // the same comparison from the .cpuprofile files, with a limit it stays under
    const passed = await runOpsctl(
      [
        'profile',
        'diff',
        join(scratch.dir, 'fast', 'profile.cpuprofile'),
        join(scratch.dir, 'slow', 'profile.cpuprofile'),
        '--max-growth',
        '90%',
        '--out',
        html,
      ],
      {
        cwd: scratch.dir,
      },
    )
    expect(passed.status, passed.stderr).toBe(0)
    expect(passed.stdout).toMatch(/1 +scoreCandidates/)
    expect(passed.stdout).toContain('Max growth 90%: passed')
  })

  it('says which line of a folded file is broken (exit 2)', async () => {
    const { writeFileSync } = await import('node:fs')
    const broken = join(scratch.dir, 'broken.folded')
    writeFileSync(broken, 'main;work 3\nmain;oops\n')
    const result = await runOpsctl(['profile', 'diff', broken, broken], { cwd: scratch.dir })
    expect(result.status).toBe(2)
    expect(result.stderr).toContain(`${broken}:2: not a folded stack line`)
  })
})

describe('opsctl profile leak', () => {
  it('names the module-level array that grows per request', async () => {
    const out = join(scratch.dir, 'leaky')
    // a floor well under what even a slow run leaks (about 2 kB a request); the default floor is the non-leaking test's
    const result = await runOpsctl(
      [
        'profile',
        'leak',
        '--load',
        '/',
        '--warmup',
        '1s',
        '--duration',
        '3s',
        '--connections',
        '2',
        '--min-growth',
        '256kB',
        '--out',
        out,
        '--json',
        '--',
        'node',
        fixture('leaky-server.mjs'),
      ],
      {
        cwd: scratch.dir,
      },
    )
    expect(result.status, result.stderr).toBe(0)
    const run = parseJson<LeakRun>(result.stdout)
    const [suspect] = run.report!.suspects
    expect(
      suspect,
      JSON.stringify({
        load: run.load,
        heap: [run.report!.heapBefore, run.report!.heapAfter],
        constructors: run.report!.constructors.slice(0, 3),
      }),
    ).toMatchObject({ constructor: 'Array', holder: 'leakyCache', isNew: false })
    expect(suspect!.summary).toMatch(/^an Array in leakyCache grew by [\d,]+ entries/)
    // one entry per request between the snapshots (give or take the requests in flight at the end)
    const grew = suspect!.entriesAfter - suspect!.entriesBefore
    expect(grew).toBeGreaterThanOrEqual(run.load!.requests)
    expect(grew).toBeLessThanOrEqual(run.load!.requests + 10)
    expect(suspect!.path.at(-1)).toEqual({ edge: '.leakyCache', object: 'Array' })
    expect(existsSync(join(out, 'before.heapsnapshot')) && existsSync(join(out, 'after.heapsnapshot'))).toBe(true)
  })

  it('names no suspect for a server that does not leak', async () => {
    const result = await runOpsctl(
      [
        'profile',
        'leak',
        '--load',
        '/',
        '--warmup',
        '1s',
        '--duration',
        '3s',
        '--connections',
        '2',
        '--out',
        join(scratch.dir, 'steady'),
        '--',
        'node',
        fixture('steady-server.mjs'),
      ],
      { cwd: scratch.dir },
    )
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/No leak suspect: nothing grew by 1(\.0)?MB or more/)
  })
})
