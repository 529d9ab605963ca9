/**
 * `opsctl dashboard` as an on-call engineer runs it: in a terminal (a tmux pane, 100×30) beside a
 * reference service behind the router with a canary in progress and real traffic. The numbers
 * change between two captures; `a` then `y` aborts the canary (router weights and journal show
 * it); the router killed, the traffic panel turns stale while the others keep updating.
 */
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { driveTraffic, startRolloutWorld, type RolloutWorld } from '../deploy/support.js'
import { stopChild } from '../traffic/support.js'
import { waitFor } from '../helpers/wait.js'

const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))
const hasTmux = spawnSync('tmux', ['-V']).status === 0
const serverUp = await isServerReachable()
const run =
  requireOrSkip(hasTmux, 'tmux is not installed (Debian: tmux; .ci/packages.sh installs it)') &&
  requireOrSkip(serverUp, 'PostgreSQL at 127.0.0.1:5432 is not reachable')
const session = `opsctl-dashboard-${process.pid}`
const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' })
const pane = () => tmux('capture-pane', '-p', '-t', session).stdout ?? ''

describe.runIf(run)('opsctl dashboard in a terminal', () => {
  let database: TestDatabase
  let world: RolloutWorld
  let controller: ReturnType<typeof spawn> | undefined
  let traffic: ReturnType<typeof driveTraffic> | undefined

  beforeAll(async () => {
    database = await createTestDatabase('dashboard')
    world = await startRolloutWorld(database)
  }, 120_000)

  afterAll(async () => {
    tmux('kill-session', '-t', session)
    traffic?.stop()
    await stopChild(controller)
    await world?.close()
    await database?.drop()
  }, 60_000)

  it('shows live numbers, aborts the canary on a and y, and marks the traffic panel stale when the router dies', async () => {
    // /version: cheap, and the empty test database serves it
    traffic = driveTraffic(world, 120, 100, '/version')
    traffic.result.catch(() => undefined) // stopped by the test, or by the router's death
    // Judged on errors only: this test is about the dashboard, and under the suite's load the
    // latency judge may (rightly) see the two processes differ and roll back before `a` is pressed.
    writeFileSync(join(world.dir, 'analysis.yaml'), 'minSamples: 20\nmetrics:\n  - metric: errors\n    critical: true\n')
    controller = spawn(
      process.execPath,
      [
        DEV_BIN,
        'deploy',
        'canary',
        '--service',
        'api',
        '--stable',
        'stable',
        '--canary',
        'canary',
        '--steps',
        '30:promote,100',
        '--interval',
        '2s',
        '--analysis',
        'analysis.yaml',
      ],
      { cwd: world.dir, env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' },
    )
    await waitFor(
      async () => (await world.stats()).find((stat) => stat.backend === 'canary')?.weight === 30 || undefined,
      60_000,
      'the canary at 30%',
    )
    // CI unset: in CI the dashboard prints one snapshot (as it should); this pane is a terminal
    const command = `cd ${world.dir} && env -u CI NO_COLOR=1 DATABASE_URL=${database.url} node ${DEV_BIN} dashboard --interval 1s`
    expect(tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', command).status).toBe(0)
    await waitFor(
      () => (/Traffic · live/.test(pane()) && /api-1 canary/.test(pane()) && /Queries · live/.test(pane())) || undefined,
      60_000,
      'the panels',
    )
    const rpsOf = (text: string) => /canary\s+30%\s+([\d.]+) rps/.exec(text)?.[1]
    const first = pane()
    expect(first).toMatch(/stable\s+70%/)
    expect(first).toMatch(/Deploy · live/)
    // live numbers move: the canary's window numbers change between refreshes
    await waitFor(() => (rpsOf(pane()) !== undefined && pane() !== first) || undefined, 20_000, 'a refresh')
    const second = pane()
    expect(second).not.toEqual(first)

    tmux('send-keys', '-t', session, 'a')
    await waitFor(() => /Abort api-1: all traffic back to the old version\? \(y\/N\)/.test(pane()) || undefined, 10_000, 'the confirmation')
    tmux('send-keys', '-t', session, 'y')
    await waitFor(
      async () => (await world.stats()).find((stat) => stat.backend === 'canary')?.weight === 0 || undefined,
      60_000,
      'the canary at 0%',
    )
    const events = await world.journal('deploy')
    expect(events.some((event) => event.kind === 'deploy.action' && event.data.action === 'abort')).toBe(true)
    expect(events.some((event) => event.kind === 'deploy.aborted')).toBe(true)

    // the metrics source goes away: its panel turns stale, the others keep answering
    await stopChild(world.router.child, 'SIGKILL')
    await waitFor(() => /Traffic · stale/.test(pane()) || undefined, 10_000, 'the traffic panel stale')
    const stale = pane()
    expect(stale, stale).toMatch(/Journal · live/)
    expect(stale, stale).toMatch(/Incidents · live/)
    tmux('send-keys', '-t', session, 'q')
    await waitFor(() => tmux('has-session', '-t', session).status !== 0 || undefined, 10_000, 'the dashboard to quit')
  }, 240_000)
})
