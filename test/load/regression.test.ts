import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExitCode, exitCodeOf, type OpsError } from '../../src/core/index.js'
import { compareResults, loadVerdict, readResultFile, writeResultFile } from '../../src/load/index.js'
import { planLoad } from '../../src/load/load.js'
import { type LoadPlan } from '../../src/load/plan.js'
import { assembleResult } from '../../src/load/assemble.js'
import { runOnce } from '../../src/load/runner.js'
import { type RunStats } from '../../src/load/result.js'
import { runCli } from '../helpers/cli.js'
import { startTestServer, type TestServer } from './support.js'
import { makeTempDir } from '../helpers/temp.js'

// Result files from real runs: a 20 ms server twice (unchanged) and a 26 ms one (30% slower).
// The three are loaded at the same time, in several short rounds, so that whatever else this
// 2-core machine does at that moment hits all three alike. Closed model with two connections:
// a stall of this (shared, busy) test process then delays the few requests in flight, where the
// open model would rightly charge it to every request scheduled during it.

const dir = makeTempDir('opsctl-load-regression-')
const files = { baseline: join(dir, 'baseline.json'), unchanged: join(dir, 'unchanged.json'), slower: join(dir, 'slower.json') }
const servers: TestServer[] = []
const ROUNDS = 4
let slowerPlan: LoadPlan
let slowerRuns: RunStats[]

beforeAll(async () => {
  const fast = await startTestServer({ delayMs: 20 })
  const same = await startTestServer({ delayMs: 20 })
  const slow = await startTestServer({ delayMs: 26 })
  servers.push(fast, same, slow)
  const plans: LoadPlan[] = []
  for (const server of [fast, same, slow]) {
    plans.push(
      await planLoad({
        source: { url: { url: `${server.url}/users/1/orders` } },
        overrides: { connections: 2, durationMs: 3000, warmupMs: 500 },
      }),
    )
  }
  const runs: RunStats[][] = [[], [], []]
  for (let round = 0; round < ROUNDS; round++) {
    const results = await Promise.all(plans.map((plan) => runOnce(plan)))
    results.forEach((result, i) => runs[i]!.push(result))
  }
  writeResultFile(files.baseline, assembleResult(plans[0]!, runs[0]!))
  writeResultFile(files.unchanged, assembleResult(plans[1]!, runs[1]!))
  writeResultFile(files.slower, assembleResult(plans[2]!, runs[2]!))
  slowerPlan = plans[2]!
  slowerRuns = runs[2]!
}, 60_000)

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()))
})

describe('comparing result files', () => {
  it('says "no significant change" for an unchanged server', () => {
    const comparison = compareResults(readResultFile(files.baseline), readResultFile(files.unchanged))
    expect(comparison.verdict).toBe('no significant change')
    expect(comparison.metrics[0]!.baseline.samples).toBe(ROUNDS * 3)
  })

  it('says "regressed" for a server slowed by 30%, from the command too (exit 1)', () => {
    const comparison = compareResults(readResultFile(files.baseline), readResultFile(files.slower))
    expect(comparison.verdict).toBe('regressed')
    const p50 = comparison.metrics.find((metric) => metric.metric === 'p50')!
    expect(p50.verdict).toBe('regressed')
    expect(p50.change).toBeGreaterThan(0.15)
    expect(p50.magnitude).toBe('large')

    const result = runCli(['load', 'compare', files.baseline, files.slower])
    expect(result.status).toBe(1)
    expect(result.stdout).toMatch(/compared with the baseline .*: regressed/)
    expect(result.stdout).toMatch(/p50 .* regressed/)
    expect(result.stderr).toMatch(/Failed: regressed against the baseline: p50 \+\d+\.\d% \(95% CI/)
  })

  it('gives the same verdict for --baseline, in the result and its summary (exit 1)', () => {
    const result = assembleResult(slowerPlan, slowerRuns, { baseline: readResultFile(files.baseline) })
    expect(result.comparison?.verdict).toBe('regressed')
    expect(result.summary).toMatchObject({ verdict: 'regressed', outcome: 'failed', runs: ROUNDS })
    expect(exitCodeOf(loadVerdict(result))).toBe(ExitCode.CheckFailed)
  })

  it('refuses a file that is not a load result (exit 2)', () => {
    writeFileSync(join(dir, 'other.json'), '{"kind":"something else","runs":[]}')
    for (const [file, message] of [
      [join(dir, 'missing.json'), /Cannot read result file .*missing\.json: ENOENT/],
      [join(dir, 'other.json'), /other\.json: kind: not an opsctl load result/],
    ] as const) {
      const error = (() => {
        try {
          readResultFile(file)
        } catch (caught) {
          return caught as OpsError
        }
        throw new Error('expected a refusal')
      })()
      expect(error.exit).toBe(ExitCode.BadInput)
      expect(error.message).toMatch(message)
    }
  })
})
