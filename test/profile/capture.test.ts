import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { profileTarget, type ProfileRun } from '../../src/profile/capture.js'
import { parseCpuProfile } from '../../src/profile/cpuprofile.js'
import { parseFolded } from '../../src/profile/folded.js'
import { fixture, journalEvents, parseJson, runOpsctl, scratchDir } from './support.js'

let scratch: ReturnType<typeof scratchDir>
beforeAll(() => {
  scratch = scratchDir('profile')
})
afterAll(() => scratch.remove())

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

describe('opsctl profile', () => {
  it('puts the one hot function of a small server first by self time and writes all three files', async () => {
    const port = await freePort()
    const out = join(scratch.dir, 'hot')
    const result = await runOpsctl(
      [
        'profile',
        '--load',
        `http://127.0.0.1:${port}/`,
        '--duration',
        '3s',
        '--connections',
        '2',
        '--out',
        out,
        '--json',
        '--',
        'node',
        fixture('hot-server.mjs'),
      ],
      { cwd: scratch.dir, env: { PORT: String(port) } },
    )
    expect(result.status, result.stderr).toBe(0)
    const run = parseJson<ProfileRun>(result.stdout)
    expect(run.listening?.port).toBe(port)
    expect(run.summary!.topSelf[0]).toMatchObject({ name: 'crunchNumbers' })
    expect(run.summary!.topSelf[0]!.location).toMatch(/hot-server\.mjs:4$/)
    expect(run.summary!.topSelf[0]!.selfShare).toBeGreaterThan(0.3)
    expect(run.load!.requests).toBeGreaterThan(0)
    expect(run.target.exit).toMatchObject({ stoppedByOpsctl: true })

    // 0x's flame graph, the folded stacks and the V8 profile, all of the same run
    expect(run.flamegraph).toEqual({ renderer: '0x' })
    expect(readFileSync(join(out, 'flamegraph.html'), 'utf8')).toContain('crunchNumbers')
    const folded = parseFolded(readFileSync(join(out, 'profile.folded'), 'utf8'), 'profile.folded')
    expect(folded.total).toBe(run.summary!.total)
    expect(parseCpuProfile(readFileSync(join(out, 'profile.cpuprofile'), 'utf8'), 'profile.cpuprofile').samples).toHaveLength(
      run.summary!.total,
    )

    const [event] = journalEvents(join(scratch.dir, '.opsctl')).filter((entry) => entry.kind === 'profile.run')
    expect(event).toMatchObject({
      subject: 'hot-server.mjs',
      data: { target: 'hot-server.mjs', outcome: 'ok', files: { dir: out, cpuprofile: join(out, 'profile.cpuprofile') } },
    })
    expect(String(event!.data.top)).toMatch(/^crunchNumbers/)
  })

  it('fails with exit 3 when the target exits before it opens a port, and says why', async () => {
    const out = join(scratch.dir, 'early')
    const result = await runOpsctl(
      ['profile', '--load', '/', '--duration', '3s', '--renderer', 'opsctl', '--out', out, '--', 'node', fixture('early-exit.mjs')],
      { cwd: scratch.dir },
    )
    expect(result.status).toBe(3)
    expect(result.stderr).toContain('The target early-exit.mjs exited (exit code 3) before it opened a port')
    expect(result.stderr).toContain('config error: API_KEY is not set')
    expect(existsSync(join(out, 'profile.cpuprofile'))).toBe(true)
  })

  it('fails with exit 3 when the target crashes under load, keeping what was captured', async () => {
    const out = join(scratch.dir, 'crash')
    const result = await runOpsctl(
      ['profile', '--load', '/', '--duration', '3s', '--renderer', 'opsctl', '--out', out, '--', 'node', fixture('crash-server.mjs')],
      { cwd: scratch.dir },
    )
    expect(result.status).toBe(3)
    expect(result.stderr).toMatch(/The target crash-server\.mjs exited \(exit code 1\) during the load run/)
    expect(result.stderr).toContain('Error: boom: the handler crashed')
    expect(result.stderr).toContain(`Captured so far (written): ${join(out, 'profile.cpuprofile')}`)
    for (const file of ['profile.cpuprofile', 'profile.folded', 'flamegraph.html']) expect(existsSync(join(out, file))).toBe(true)
  })

  it('fails with exit 3 when the target never opens a port, after --start-timeout', async () => {
    const out = join(scratch.dir, 'never')
    const result = await runOpsctl(
      [
        'profile',
        '--load',
        '/',
        '--start-timeout',
        '2s',
        '--renderer',
        'opsctl',
        '--out',
        out,
        '--json',
        '--',
        'node',
        fixture('never-listen.mjs'),
      ],
      { cwd: scratch.dir },
    )
    expect(result.status).toBe(3)
    const { error } = parseJson<{ error: { message: string; hint: string; exit: number } }>(result.stdout)
    expect(error.exit).toBe(3)
    expect(error.message).toMatch(/^The target did not open a port within 2s/)
    expect(error.message).toContain('this process never listens')
    expect(error.hint).toContain('--start-timeout')
    expect(existsSync(join(out, 'profile.cpuprofile'))).toBe(true)
  })

  it('rejects a target that is not a node command and a load that is not on this machine (exit 2)', async () => {
    const options = { load: { url: '/' }, outDir: join(scratch.dir, 'rejected') }
    await expect(profileTarget({ ...options, target: { label: 'npm', command: ['npm', 'start'] } })).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('The target must be a node command'),
    })
    await expect(
      profileTarget({
        ...options,
        load: { url: 'http://example.com/' },
        target: { label: 'x', command: ['node', fixture('hot-server.mjs')] },
      }),
    ).rejects.toMatchObject({
      exit: 2,
      message: expect.stringContaining('only loads the process it started'),
    })
  })

  it('--heap reports the top allocation sites by bytes', async () => {
    const run = await profileTarget({
      target: { label: 'steady-server.mjs', command: ['node', fixture('steady-server.mjs')] },
      load: { url: '/' },
      mode: 'heap',
      durationMs: 2000,
      connections: 2,
      outDir: join(scratch.dir, 'heap'),
    })
    expect(run.summary!.unit).toBe('bytes')
    // the per-request Array.from of 50 objects is the server's own big allocation
    expect(run.summary!.topSelfApp[0]!.location).toMatch(/steady-server\.mjs:13$/)
    expect(run.summary!.topSelf.slice(0, 3).map((stat) => stat.location)).toContainEqual(expect.stringMatching(/steady-server\.mjs:13$/))
    expect(existsSync(run.files.heapprofile!)).toBe(true)
    expect(readFileSync(run.files.flamegraph!, 'utf8')).toContain('steady-server.mjs')
    // allocation sampling runs the target unchanged (inlining off would change what it allocates), and says so
    expect(run.attribution).toMatchObject({ method: 'v8-inlined', nodeFlags: [] })
    expect(readFileSync(run.files.flamegraph!, 'utf8')).toContain('Attribution: V8&#39;s own attribution: the target ran unchanged')
  })
})
