/**
 * Canary rollouts as users run them: `opsctl deploy canary` in its own process, two
 * reference-service instances behind `opsctl router start`, real autocannon traffic. A canary
 * with errors or latency is rolled back by the judge; a healthy one is promoted; one without
 * enough traffic is inconclusive, never promoted.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate, seed } from '../../reference-service/src/index.js'
import type { ServiceProcess } from '../../src/demo/service-process.js'
import { createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { driveTraffic, startRolloutWorld, startService, type RolloutWorld } from './support.js'

const serverUp = await isServerReachable()
const run = requireOrSkip(serverUp, 'PostgreSQL at 127.0.0.1:5432 is not reachable')

/**
 * Windows of 4 s: quick, and enough requests at 300 per second even when the machine is busy. Tolerances suit such short
 * windows on a shared 2-core machine, where one process's pause shifts a window's tail (the
 * defaults, 5% and +100%, are for 30 s windows on production hosts): a 100 ms or 5% error
 * regression is far beyond them.
 */
const ANALYSIS = `minSamples: 50
metrics:
  - metric: latency
    tolerance: 30%
  - metric: p99
    tolerance: 400%
  - metric: errors
    tolerance: 0.5%
    critical: true
`
const ERRORS_ONLY = `minSamples: 50
metrics:
  - metric: errors
    tolerance: 0.5%
    critical: true
`
const CANARY_ARGS = [
  'canary',
  '--service',
  'api',
  '--stable',
  'stable',
  '--canary',
  'canary',
  '--interval',
  '4s',
  '--warmup',
  '1s',
  '--analysis',
  'analysis.yaml',
]

/** What a failed expectation shows: the outcome and each window's verdict. */
function summary(out: RunJson): string {
  return JSON.stringify(
    { outcome: out.rollout.outcome, verdicts: out.rollout.verdicts.map((item) => [item.status, ...item.reasons]) },
    null,
    1,
  )
}

interface RunJson {
  rollout: {
    id: string
    status: string
    weight: number
    windows: number
    verdicts: Array<{ status: string; reasons: string[] }>
    outcome?: { reason: string }
  }
  verdict: { status: string; reasons: string[] }
}

describe.runIf(run)('deploy canary through the built-in router', () => {
  let database: TestDatabase
  let stable: ServiceProcess
  const worlds: RolloutWorld[] = []

  beforeAll(async () => {
    database = await createTestDatabase('deploy')
    const pool = new pg.Pool({ connectionString: database.url, max: 2 })
    try {
      await migrate(pool)
      await seed(pool, { scale: 0.01 })
    } finally {
      await pool.end()
    }
    stable = await startService(database, 'v1')
  }, 120_000)

  afterAll(async () => {
    await Promise.all(worlds.map((world) => world.close()))
    await stable?.stop()
    await database?.drop()
  }, 60_000)

  async function world(
    canaryEnv: NodeJS.ProcessEnv = {},
    options: { freshStable?: boolean; analysis?: string } = {},
  ): Promise<RolloutWorld> {
    const created = await startRolloutWorld(database, { ...(options.freshStable ? {} : { stable }), canaryEnv })
    writeFileSync(join(created.dir, 'analysis.yaml'), options.analysis ?? ANALYSIS)
    worlds.push(created)
    return created
  }

  it('rolls back a canary that fails 5% of requests within three analysis intervals', async () => {
    const w = await world({ FAULT_ERROR_RATE: '0.05' })
    const traffic = driveTraffic(w, 90, 300)
    const result = await w.deploy([...CANARY_ARGS, '--steps', '20,50,100', '--json'])
    traffic.stop()
    await traffic.result.catch(() => undefined)
    expect(result.status, result.stderr).toBe(1)
    const out = JSON.parse(result.stdout) as RunJson
    expect(out.rollout.status, summary(out)).toBe('rolled-back')
    expect(out.rollout.windows).toBeLessThanOrEqual(3)
    expect(out.rollout.verdicts.at(-1)!.status).toBe('fail')
    expect(out.rollout.verdicts.at(-1)!.reasons.join(' ')).toMatch(/error/i)
    const canary = (await w.stats()).find((stat) => stat.backend === 'canary')!
    expect(canary.weight).toBe(0)
    const kinds = (await w.journal('deploy')).map((event) => event.kind)
    expect(kinds).toContain('deploy.started')
    expect(kinds).toContain('deploy.verdict')
    expect(kinds).toContain('deploy.rollback')
  }, 180_000)

  it('rolls back a canary 100 ms slower by the latency judge', async () => {
    const w = await world({ FAULT_LATENCY_MS: '100' })
    const traffic = driveTraffic(w, 90, 300)
    const result = await w.deploy([...CANARY_ARGS, '--steps', '20,50,100', '--json'])
    traffic.stop()
    await traffic.result.catch(() => undefined)
    expect(result.status, result.stderr).toBe(1)
    const out = JSON.parse(result.stdout) as RunJson
    expect(out.rollout.status, summary(out)).toBe('rolled-back')
    expect(out.rollout.verdicts.at(-1)!.reasons.join(' ')).toMatch(/latency|p50|p99/i)
    expect((await w.stats()).find((stat) => stat.backend === 'canary')!.weight).toBe(0)
    const kinds = (await w.journal('deploy')).map((event) => event.kind)
    expect(kinds).toContain('deploy.rollback')
    expect(kinds).not.toContain('deploy.promoted')
  }, 180_000)

  it('promotes a healthy canary to 100%', async () => {
    // Two processes started alike: a canary judged against a stable that has served for minutes
    // meets differences (JIT, pools, caches) that are not the version's.
    // Judged on errors only: on a machine shared with the rest of the suite, two processes of
    // the same version differ in latency for reasons that are not the version (+10% to +90% in
    // our runs). The judge's false rollbacks on like-for-like samples are measured in
    // bench/judge.ts (0.5% over 200 runs); this test is about the promotion itself.
    const w = await world({}, { freshStable: true, analysis: ERRORS_ONLY })
    const traffic = driveTraffic(w, 90, 300)
    const result = await w.deploy([...CANARY_ARGS, '--steps', '20,50,100', '--json'])
    traffic.stop()
    await traffic.result.catch(() => undefined)
    expect(result.status, result.stderr).toBe(0)
    const out = JSON.parse(result.stdout) as RunJson
    expect(out.rollout.status, summary(out)).toBe('promoted')
    expect(out.rollout.weight).toBe(100)
    const stats = await w.stats()
    expect(stats.find((stat) => stat.backend === 'canary')!.weight).toBe(100)
    expect(stats.find((stat) => stat.backend === 'stable')!.weight).toBe(0)
    const history = await w.deploy(['history', '--json'])
    expect((JSON.parse(history.stdout) as Array<{ outcome: string }>)[0]!.outcome).toBe('promoted')
    const kinds = (await w.journal('deploy')).map((event) => event.kind)
    expect(kinds).toContain('deploy.promoted')
    expect(kinds).not.toContain('deploy.rollback')
  }, 180_000)

  it('calls a canary without enough traffic inconclusive and does not promote it', async () => {
    const w = await world()
    const result = await w.deploy([...CANARY_ARGS, '--steps', '20,50,100', '--max-inconclusive', '2', '--json'])
    expect(result.status, result.stderr).toBe(1)
    const out = JSON.parse(result.stdout) as RunJson
    expect(out.verdict.status).toBe('inconclusive')
    expect(out.rollout.status, summary(out)).toBe('paused')
    expect(out.rollout.weight).toBeLessThan(100)
    expect(out.rollout.verdicts.every((item) => item.status === 'inconclusive')).toBe(true)
    const status = await w.deploy(['status', '--json'])
    expect((JSON.parse(status.stdout) as { rollouts: Array<{ rollout: { status: string } }> }).rollouts[0]!.rollout.status).toBe('paused')
    const aborted = await w.deploy(['abort', '--reason', 'test over', '--json'])
    expect(aborted.status, aborted.stderr).toBe(0)
    expect((await w.stats()).find((stat) => stat.backend === 'canary')!.weight).toBe(0)
    const kinds = (await w.journal('deploy')).map((event) => event.kind)
    expect(kinds).toContain('deploy.paused')
    expect(kinds).toContain('deploy.aborted')
    expect(kinds).not.toContain('deploy.promoted')
  }, 180_000)
})
