import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProfileRun } from '../../src/profile/capture.js'
import type { DiffRun } from '../../src/profile/diff-files.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { parseJson, runOpsctl, scratchDir } from './support.js'

// `opsctl profile --service reference` starts the real reference service (PostgreSQL through
// createTestDatabase, seeded at scale 0.05: 5,000 order items) and loads its CPU-heavy report.
// GET /reports/revenue fetches every sold line and aggregates them in JavaScript, in
// aggregateRevenueByProductAndMonth; FAULT_REPORT_CPU=4 makes that function do its per-row work
// four times, the deliberately slowed variant for the diff.

const HOT_FUNCTION = 'aggregateRevenueByProductAndMonth'

let database: TestDatabase
let scratch: ReturnType<typeof scratchDir>
beforeAll(async () => {
  database = await createTestDatabase('profile_refsvc')
  scratch = scratchDir('profile-refsvc')
})
afterAll(async () => {
  await database?.drop()
  scratch?.remove()
})

describe('profiling the reference service', () => {
  const profileReference = (name: string, env: NodeJS.ProcessEnv = {}) =>
    runOpsctl(
      [
        'profile',
        '--service',
        'reference',
        '--database-url',
        database.url,
        '--duration',
        '6s',
        '--connections',
        '4',
        '--renderer',
        'opsctl',
        '--out',
        join(scratch.dir, name),
        '--json',
      ],
      { cwd: scratch.dir, env: { SEED_SCALE: '0.05', LOG_LEVEL: 'warn', ...env }, timeoutMs: 120_000 },
    )

  it('finds the revenue aggregation among the top three functions by self time', async () => {
    const result = await profileReference('fast')
    expect(result.status, result.stderr).toBe(0)
    const run = parseJson<ProfileRun>(result.stdout)
    expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/reports\/revenue$/)
    expect(run.load!.requests).toBeGreaterThan(0)
    expect(run.load!.failed).toBe(0)

    const topThree = run.summary!.topSelf.slice(0, 3)
    expect(
      topThree.map((stat) => stat.name),
      topThree.map((stat) => `${stat.name} ${(stat.selfShare * 100).toFixed(1)}%`).join(', '),
    ).toContain(HOT_FUNCTION)
    // through tsx's source maps: the original file and line, not line 1 of transpiled code
    expect(topThree.find((stat) => stat.name === HOT_FUNCTION)!.location).toMatch(/reference-service\/src\/revenue\.ts:(?!1$)\d+$/)
    for (const file of ['profile.cpuprofile', 'profile.folded', 'flamegraph.html'])
      expect(existsSync(join(scratch.dir, 'fast', file))).toBe(true)
    expect(run.target.exit).toMatchObject({ code: 0, stoppedByOpsctl: true })
  }, 180_000)

  it('puts the revenue aggregation first in a diff against its deliberately slowed variant', async () => {
    const slowed = await profileReference('slow', { FAULT_REPORT_CPU: '4' })
    expect(slowed.status, slowed.stderr).toBe(0)
    const diff = await runOpsctl(
      [
        'profile',
        'diff',
        join(scratch.dir, 'fast'),
        join(scratch.dir, 'slow'),
        '--max-growth',
        '5%',
        '--out',
        join(scratch.dir, 'diff.html'),
        '--json',
      ],
      { cwd: scratch.dir },
    )
    expect(diff.status, diff.stderr).toBe(1)
    const run = parseJson<DiffRun>(diff.stdout)
    const changes = run.changes
      .slice(0, 5)
      .map(
        (change) =>
          `${change.name} (${change.location}) ${(change.before.selfShare * 100).toFixed(1)}% → ${(change.after.selfShare * 100).toFixed(1)}%`,
      )
      .join(', ')
    expect(run.changes[0], changes).toMatchObject({ name: HOT_FUNCTION })
    expect(run.changes[0]!.selfDelta).toBeGreaterThan(0.05)
  }, 180_000)
})
