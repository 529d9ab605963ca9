import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProfileRun } from '../../src/profile/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { parseJson, runOpsctl, scratchDir } from './support.js'

// `opsctl profile --service reference` starts the real reference service (PostgreSQL through
// createTestDatabase, seeded at scale 0.05: 5,000 order items) and loads its CPU-heavy report.
// GET /reports/revenue fetches every sold line and aggregates them in JavaScript; the driver's row
// parsing (pg-protocol, Node's Buffer#toString) costs about as much as the aggregation itself, so
// the named function is looked for in the app's own code, where it must be in the top three.

const REVENUE_FUNCTIONS = ['aggregateRevenueByProductAndMonth', 'addTo', 'monthOf']

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
  it('finds the revenue aggregation among the top three functions of its code by self time', async () => {
    const out = join(scratch.dir, 'reference')
    const result = await runOpsctl(
      ['profile', '--service', 'reference', '--database-url', database.url, '--duration', '6s', '--connections', '4', '--renderer', 'opsctl', '--out', out, '--json'],
      { cwd: scratch.dir, env: { SEED_SCALE: '0.05', LOG_LEVEL: 'warn' }, timeoutMs: 120_000 },
    )
    expect(result.status, result.stderr).toBe(0)
    const run = parseJson<ProfileRun>(result.stdout)
    expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/reports\/revenue$/)
    expect(run.load!.requests).toBeGreaterThan(0)
    expect(run.load!.failed).toBe(0)

    const summary = run.summary!
    const overall = summary.topSelf.findIndex((stat) => REVENUE_FUNCTIONS.includes(stat.name))
    console.log(`revenue aggregation: #${overall + 1} overall by self time; top three: ${summary.topSelf.slice(0, 3).map((stat) => `${stat.name} ${(stat.selfShare * 100).toFixed(1)}%`).join(', ')}`)
    const app = summary.topSelfApp.slice(0, 3)
    expect(app.map((stat) => stat.name)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^(${REVENUE_FUNCTIONS.join('|')})$`))]))
    // through tsx's source maps: the original file and line, not line 1 of transpiled code
    const aggregate = summary.topSelfApp.find((stat) => stat.name === 'aggregateRevenueByProductAndMonth')
    expect(aggregate?.location).toMatch(/reference-service\/src\/revenue\.ts:(?!1$)\d+$/)
    expect(overall).toBeGreaterThanOrEqual(0)
    for (const file of ['profile.cpuprofile', 'profile.folded', 'flamegraph.html']) expect(existsSync(join(out, file))).toBe(true)
    expect(run.target.exit).toMatchObject({ code: 0, stoppedByOpsctl: true })
  })
})
