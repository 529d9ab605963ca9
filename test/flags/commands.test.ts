import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { type JournalEvent } from '../../src/journal/index.js'
import { openJournalAt } from '../../src/journal/open.js'
import { SAMPLE_FLAGS, tempProject } from './fixtures.js'

const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))

/** opsctl from the sources, asynchronously, so that several run at once. */
function opsctl(args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEV_BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', UNLEASH_URL: '', UNLEASH_API_TOKEN: '', OPSCTL_JOURNAL_URL: '', OPSCTL_JOURNAL_DIR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

const projects: Array<ReturnType<typeof tempProject>> = []
function project(text = SAMPLE_FLAGS) {
  const made = tempProject(text)
  projects.push(made)
  return made
}
afterAll(() => projects.forEach((made) => made.remove()))

const flag = (strategy: string) => `environments: [development]
flags:
  a.flag:
    type: release
    description: d
    owner: me
    created: 2026-01-01
    environments:
      development:
        enabled: true
        strategies:
${strategy}`

describe('opsctl flags refuses a bad flags.yaml with its path and line (exit 2)', () => {
  it.each([
    [
      'an unknown strategy',
      flag('          - name: gradualRollout\n'),
      /flags\.yaml:12:19: flags\.a\.flag\.environments\.development\.strategies\[0\]\.name: unknown strategy "gradualRollout"/,
    ],
    [
      'a rollout of 140%',
      flag('          - name: flexibleRollout\n            rollout: 140%\n'),
      /flags\.yaml:13:22: flags\.a\.flag\.environments\.development\.strategies\[0\]\.rollout: rollout must be a whole percentage from 0% to 100%, got "140%"/,
    ],
    [
      'a duplicate flag',
      `${flag('          - name: default\n')}  a.flag:\n    type: release\n`,
      /flags\.yaml:13:3: duplicate flag "a\.flag"/,
    ],
    ['a YAML syntax error', flag('          - name: "default\n'), /flags\.yaml:\d+:\d+: invalid YAML: /],
  ])('%s', async (_what, text, message) => {
    const made = project(text)
    const validate = await opsctl(['flags', 'validate'], made.dir)
    expect(validate.status).toBe(2)
    expect(validate.stderr).toMatch(message)
    expect(validate.stderr).toContain(made.file)
  })

  it('and changes nothing in it', async () => {
    const text = flag('          - name: flexibleRollout\n            rollout: 140%\n')
    const made = project(text)
    const enable = await opsctl(['flags', 'disable', 'a.flag', '--env', 'development'], made.dir)
    expect(enable.status).toBe(2)
    expect(enable.stderr).toContain(`${made.file}:13:22:`)
    expect(readFileSync(made.file, 'utf8')).toBe(text)
  })
})

describe('opsctl flags on flags.yaml', () => {
  it('list, show and validate read the file; --json gives one document', async () => {
    const made = project()
    const [list, show, validate] = await Promise.all([
      opsctl(['flags', 'list', '--json'], made.dir),
      opsctl(['flags', 'show', 'checkout.new-flow'], made.dir),
      opsctl(['flags', 'validate'], made.dir),
    ])
    expect(list.status).toBe(0)
    const listing = JSON.parse(list.stdout) as {
      backend: string
      flags: Array<{ name: string; environments: Array<{ name: string; enabled: boolean; rollout?: number }> }>
    }
    expect(listing.backend).toBe('file')
    expect(listing.flags.map((item) => item.name)).toEqual(['orders.eager-loading', 'checkout.new-flow'])
    expect(listing.flags[0]!.environments).toMatchObject([
      { name: 'development', enabled: true, rollout: 100 },
      { name: 'production', enabled: false, rollout: 10 },
    ])
    expect(show.status).toBe(0)
    expect(show.stdout).toContain('checkout.new-flow  experiment')
    expect(show.stdout).toContain('  - userWithId: users alice, bob')
    expect(show.stdout).toContain('  - flexibleRollout: 50% by default when appName IN web')
    expect(show.stdout).toContain('  variants: blue 30%, green 70%')
    expect(validate.stdout).toContain('is valid: 2 flags, environments development, production.')
  })

  it('kill needs a reason; rollout needs a whole percentage; unknown names exit 2', async () => {
    const made = project()
    const runs = await Promise.all([
      opsctl(['flags', 'kill', 'checkout.new-flow'], made.dir),
      opsctl(['flags', 'rollout', 'checkout.new-flow', '12.5%', '--env', 'production'], made.dir),
      opsctl(['flags', 'disable', 'checkout.new-flo', '--env', 'production'], made.dir),
    ])
    expect(runs.map((run) => run.status)).toEqual([2, 2, 2])
    expect(runs[2]!.stderr).toContain('(did you mean "checkout.new-flow"?)')
    expect(readFileSync(made.file, 'utf8')).toBe(SAMPLE_FLAGS)
  })

  it('kill turns the flag off everywhere in one write and journals the reason', async () => {
    const made = project()
    const kill = await opsctl(['flags', 'kill', 'checkout.new-flow', '--reason', '500s on /checkout'], made.dir)
    expect(kill.status).toBe(0)
    expect(kill.stdout).toContain('checkout.new-flow: off in every environment')
    expect(readFileSync(made.file, 'utf8')).toBe(
      SAMPLE_FLAGS.replace('      production:\n        enabled: true', '      production:\n        enabled: false'),
    )
    const journal = await openJournalAt(join(made.dir, '.opsctl', 'journal'), { durable: true, segmentSize: 64 * 1024 * 1024 })
    const events: JournalEvent[] = []
    for await (const event of journal.read()) events.push(event)
    await journal.close()
    expect(events).toHaveLength(1)
    const event = events[0]!
    expect(event.subject).toBe('checkout.new-flow')
    expect(event.data).toEqual({
      flag: 'checkout.new-flow',
      change: 'killed',
      from: { development: false, production: true },
      to: { development: false, production: false },
      reason: '500s on /checkout',
      source: 'flags.yaml',
    })
  })

  it('stale reports flags past their lifetime and code that disagrees with the file (exit 1)', async () => {
    const made = project()
    mkdirSync(join(made.dir, 'src'))
    writeFileSync(
      join(made.dir, 'src', 'checkout.ts'),
      "export const on = (unleash: any) => unleash.isEnabled('checkout.new-flow') && unleash.isEnabled('search.v3')\n",
    )
    mkdirSync(join(made.dir, 'test'))
    writeFileSync(join(made.dir, 'test', 'fixture.ts'), "unleash.isEnabled('only.in.tests')\n")
    const stale = await opsctl(['flags', 'stale', '--json'], made.dir)
    expect(stale.status).toBe(1)
    const result = JSON.parse(stale.stdout) as {
      findings: Array<{ flag: string; rule: string }>
      skipped: string[]
      scan: { files: number }
    }
    expect(result.findings.map((finding) => [finding.flag, finding.rule])).toEqual([
      ['orders.eager-loading', 'past-lifetime'],
      ['orders.eager-loading', 'unused-in-code'],
      ['search.v3', 'missing-definition'],
    ])
    expect(result.scan.files).toBe(1)
    expect(result.skipped[0]).toContain('never-evaluated')
  })
})

describe('opsctl flags serve --json', () => {
  it('prints one JSON line with its URL as soon as it listens, and on Ctrl-C stops with exit 130 and nothing more', async () => {
    const made = project()
    const child = spawn(process.execPath, [DEV_BIN, 'flags', 'serve', '--port', '0', '--json'], {
      cwd: made.dir,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8')
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk
        if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')))
      })
      child.once('exit', () => reject(new Error('flags serve exited early')))
    })
    const started = JSON.parse(line) as { url: string; port: number; environments: string[] }
    expect(started).toMatchObject({ url: `http://127.0.0.1:${started.port}/api`, environments: ['development', 'production'] })
    expect((await fetch(started.url.replace(/\/api$/, '/health'))).status).toBe(200)
    const status = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    expect(await status).toBe(130)
    expect(stdout).toBe(`${line}\n`)
  })

  it('a bad file is a JSON error document (exit 2)', async () => {
    const made = project('flags: [\n')
    const serve = await opsctl(['flags', 'serve', '--port', '0', '--json'], made.dir)
    expect(serve.status).toBe(2)
    expect(JSON.parse(serve.stdout)).toMatchObject({ error: { message: expect.stringContaining('invalid YAML') } })
  })
})
