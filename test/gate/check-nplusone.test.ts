import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/core/index.js'
import { runNPlusOneCheck, type NPlusOneCheck } from '../../src/gate/check-nplusone.js'
import type { CheckContext } from '../../src/gate/context.js'
import { makeTempDir } from '../helpers/temp.js'

// The N+1 budget over a PostgreSQL server log: the nplusone module's fixture from a real
// PostgreSQL 15, which has three N+1 patterns (items per order, twice, and single-row INSERTs).
const SHOP_LOG = fileURLToPath(new URL('../nplusone/fixtures/shop.log', import.meta.url))

function context(): CheckContext {
  const dir = makeTempDir('opsctl-gate-n1-')
  return {
    settings: loadConfig({ cwd: dir, env: {} }),
    rootDir: dir,
    baselineDir: `${dir}/baselines`,
    outDir: `${dir}/out`,
    updateBaseline: false,
    signal: new AbortController().signal,
    note: () => {},
  }
}

const check = (extra: Partial<NPlusOneCheck> = {}): NPlusOneCheck => ({
  type: 'nplusone',
  max: 0,
  allow: [],
  requests: [],
  log: [SHOP_LOG],
  ...extra,
})

describe('the N+1 budget over a server log', () => {
  it('fails with every pattern as evidence, and passes once they are allowed', async () => {
    const failing = await runNPlusOneCheck('n1', check(), context())
    expect(failing.status).toBe('fail')
    expect(failing.verdict.reasons).toEqual(['n1: 3 N+1 patterns, budget 0'])
    expect(failing.evidence.map((item) => item.message)).toEqual([
      expect.stringMatching(/^N\+1 [0-9a-f]{16}: SELECT sku FROM items WHERE order_id = \$1 — 5 executions in 1 unit/),
      expect.stringMatching(/^N\+1 [0-9a-f]{16}: INSERT INTO items \(order_id, sku, quantity\) VALUES \(\$1, \$2, \$3\) — 5 executions/),
      expect.stringMatching(/^N\+1 [0-9a-f]{16}: SELECT id, sku, quantity FROM items WHERE order_id = \$1 ORDER BY id — 6 executions/),
    ])
    const fingerprints = failing.evidence.map((item) => /N\+1 ([0-9a-f]{16})/.exec(item.message)![1]!)
    const passing = await runNPlusOneCheck('n1', check({ allow: fingerprints }), context())
    expect(passing.status).toBe('pass')
    expect(passing.evidence).toEqual([])
  })

  it('passes within a budget of three', async () => {
    expect((await runNPlusOneCheck('n1', check({ max: 3 }), context())).status).toBe('pass')
  })

  it('is inconclusive, not a pass, when the source has no statement', async () => {
    const dir = makeTempDir('opsctl-gate-n1-empty-')
    const empty = `${dir}/empty.log`
    writeFileSync(empty, '2026-11-25 13:20:57.901 UTC [1] LOG:  database system is ready\n')
    const result = await runNPlusOneCheck('n1', check({ log: [empty] }), context())
    expect(result.status).toBe('inconclusive')
    expect(result.verdict.reasons[0]).toMatch(/No SQL statements found/)
  })
})
