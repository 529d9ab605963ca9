/** Bad input to the deploy commands: exit 2, a message that names what and where, nothing written. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { acquireRolloutLock, deployPaths } from '../../src/deploy/store.js'
import { runCli } from '../helpers/cli.js'
import { makeTempDir } from '../helpers/temp.js'

function expectBadInput(result: ReturnType<typeof runCli>, message: RegExp): void {
  expect(result.status, result.stderr).toBe(2)
  expect(result.stderr).toMatch(message)
  expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace
}

const CANARY = ['deploy', 'canary', '--service', 'api', '--stable', 'http://127.0.0.1:9', '--canary', 'http://127.0.0.1:10']

describe('deploy commands refuse bad input', () => {
  it('an unknown rollout', () => {
    const dir = makeTempDir()
    expectBadInput(runCli(['deploy', 'status', 'api-99'], { cwd: dir }), /api-99/)
    expectBadInput(runCli(['deploy', 'abort', 'not an id'], { cwd: dir }), /"not an id" is not a rollout id/)
  })

  it('promote, pause, abort or rollback when nothing runs', () => {
    const dir = makeTempDir()
    for (const action of ['promote', 'pause', 'abort', 'rollback'])
      expectBadInput(runCli(['deploy', action], { cwd: dir }), new RegExp(`No rollout is running: nothing to ${action}`))
  })

  it('steps that do not increase or go above 100, before anything moves', () => {
    const dir = makeTempDir()
    expectBadInput(runCli([...CANARY, '--steps', '50,20,100'], { cwd: dir }), /--steps: steps must increase: step 2 \(20%\)/)
    expectBadInput(runCli([...CANARY, '--steps', '10,150'], { cwd: dir }), /--steps: step 2: 150% is outside 1–100/)
    expect(existsSync(join(dir, '.opsctl', 'deploy'))).toBe(false)
  })

  it('an analysis file with an unknown metric, a truncated one, or hostile values: file, line and key', () => {
    const dir = makeTempDir()
    writeFileSync(join(dir, 'unknown.yaml'), 'metrics:\n  - metric: latency\n  - metric: cpu_temperature\n')
    expectBadInput(runCli([...CANARY, '--analysis', 'unknown.yaml'], { cwd: dir }), /unknown\.yaml:3:\d+: metrics\[1\]\.metric/)
    writeFileSync(join(dir, 'truncated.yaml'), 'metrics:\n  - metric: "lat')
    expectBadInput(runCli([...CANARY, '--analysis', 'truncated.yaml'], { cwd: dir }), /truncated\.yaml:2/)
    writeFileSync(join(dir, 'hostile.yaml'), 'minSamples: -5\nalpha: 7\n')
    expectBadInput(runCli([...CANARY, '--analysis', 'hostile.yaml'], { cwd: dir }), /hostile\.yaml:1:\d+: minSamples/)
    expectBadInput(runCli([...CANARY, '--analysis', 'missing.yaml'], { cwd: dir }), /missing\.yaml/)
    expect(existsSync(join(dir, '.opsctl', 'deploy'))).toBe(false)
  })

  it('a deploy section of opsctl.yaml with a misspelled key', () => {
    const dir = makeTempDir()
    writeFileSync(join(dir, 'opsctl.yaml'), 'deploy:\n  service: api\n  stepz: [5, 50]\n')
    expectBadInput(runCli(['deploy', 'status'], { cwd: dir }), /opsctl\.yaml:3:3: unknown key "deploy\.stepz" \(did you mean "steps"\?\)/)
  })

  it('a hook without a phase, and an interval too short to judge', () => {
    const dir = makeTempDir()
    expectBadInput(runCli([...CANARY, '--hook', 'echo hi'], { cwd: dir }), /--hook "echo hi": expected phase=command/)
    expectBadInput(runCli([...CANARY, '--interval', '10ms'], { cwd: dir }), /--interval 10ms is shorter than 100ms/)
  })
})

describe('the rollout lock', () => {
  it('refuses a second controller while the first lives, and takes over from a dead one', () => {
    const dir = makeTempDir()
    const paths = deployPaths(join(dir, '.opsctl'))
    mkdirSync(paths.dir, { recursive: true })
    const lock = acquireRolloutLock(paths, 'api-1')
    expect(() => acquireRolloutLock(paths, 'api-1')).toThrow(/already controlled by process \d+/)
    lock.release()
    // a lock left on this host by a process that no longer exists is taken over
    writeFileSync(
      paths.lock('api-1'),
      JSON.stringify({ pid: 2_147_483_000, host: hostname(), since: new Date().toISOString(), token: 'x' }),
    )
    const taken = acquireRolloutLock(paths, 'api-1')
    taken.release()
  })
})
