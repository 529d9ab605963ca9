import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OpsError } from '../../src/core/index.js'
import { parsePlanDocument } from '../../src/explain/index.js'
import { loadBaselinePath, readLoadBaseline, writeLoadBaseline, type LoadBaseline } from '../../src/gate/baseline.js'
import { matchesRule, planDocument, rowsRead } from '../../src/gate/check-explain.js'
import { fixture } from '../explain/plan-builders.js'
import { makeTempDir } from '../helpers/temp.js'

const baseline: LoadBaseline = {
  kind: 'opsctl.gate.baseline',
  version: 1,
  check: 'orders-latency',
  type: 'load',
  createdAt: '2026-12-05T07:00:00.000Z',
  scenario: 'orders',
  model: 'open',
  machine: { cores: 2, node: 'v20.20.2', platform: 'linux-x64', loadAverage: [1, 1, 1] },
  cpuPressure: 0.04,
  runs: [{ requests: 60, rps: 20, p50: 4.2, p90: 8.1, p99: 12.5, errorRate: 0 }],
}

function failure(action: () => unknown): OpsError {
  try {
    action()
  } catch (error) {
    return error as OpsError
  }
  throw new Error('expected a failure')
}

describe('load baselines', () => {
  it('are written whole and read back the same', () => {
    const path = loadBaselinePath(makeTempDir('opsctl-gate-baseline-'), 'orders-latency')
    writeLoadBaseline(path, baseline)
    expect(readLoadBaseline(path)).toEqual(baseline)
    expect(readFileSync(path, 'utf8')).toMatch(/^\{\n {2}"kind": "opsctl\.gate\.baseline",\n {2}"version": 1,/)
  })

  it('that do not exist are undefined (the check is then inconclusive)', () => {
    expect(readLoadBaseline(join(makeTempDir('opsctl-gate-baseline-'), 'none.load.json'))).toBeUndefined()
  })

  it.each([
    ['truncated', JSON.stringify(baseline).slice(0, 80), /Cannot read baseline .*orders\.load\.json: /],
    ['a merge conflict', `<<<<<<< HEAD\n${JSON.stringify(baseline)}\n=======\n`, /Cannot read baseline/],
    ['another version', JSON.stringify({ ...baseline, version: 2 }), /is not a load baseline of this version: version: /],
    ['a negative latency', JSON.stringify({ ...baseline, runs: [{ ...baseline.runs[0], p50: -1 }] }), /runs\.0\.p50: /],
    ['no runs', JSON.stringify({ ...baseline, runs: [] }), /runs: /],
    ['an unknown key', JSON.stringify({ ...baseline, extra: true }), /\(root\): Unrecognized key/i],
    ['deeply nested', '['.repeat(100_000), /Cannot read baseline/],
  ])('that are %s are refused naming the file (exit 2)', (_label, text, message) => {
    const path = join(makeTempDir('opsctl-gate-baseline-'), 'orders.load.json')
    writeFileSync(path, text)
    const error = failure(() => readLoadBaseline(path))
    expect(error).toBeInstanceOf(OpsError)
    expect(error.exit).toBe(2)
    expect(error.message).toMatch(message)
    expect(error.hint).toMatch(/--update-baseline/)
  })
})

describe('plan baselines', () => {
  it('are the EXPLAIN (FORMAT JSON) document again: parsed back, the same plan', () => {
    const original = parsePlanDocument(fixture('items-by-sku-seqscan-pg15.json'), 'fixture')
    const again = parsePlanDocument(JSON.stringify(planDocument(original)), 'baseline')
    expect(again.nodes.map((node) => [node.label, node.totalCost, node.actualRows])).toEqual(
      original.nodes.map((node) => [node.label, node.totalCost, node.actualRows]),
    )
    expect(again.executionTime).toBe(original.executionTime)
  })
})

describe('forbidden plan nodes', () => {
  const seqScan = parsePlanDocument(fixture('items-by-sku-seqscan-pg15.json'), 'fixture').nodes.find(
    (node) => node.nodeType === 'Seq Scan',
  )!

  it('match the node type, the table and the rows it read', () => {
    const read = rowsRead(seqScan)
    expect(read).toBeGreaterThan(1000)
    expect(matchesRule(seqScan, { type: 'Seq Scan', relation: 'items', minRows: 1000 })).toBe(true)
    expect(matchesRule(seqScan, { type: 'seq scan', minRows: 0 })).toBe(true)
    expect(matchesRule(seqScan, { type: 'Seq Scan', relation: 'orders', minRows: 0 })).toBe(false)
    expect(matchesRule(seqScan, { type: 'Seq Scan', relation: 'items', minRows: read + 1 })).toBe(false)
    expect(matchesRule(seqScan, { type: 'Index Scan', minRows: 0 })).toBe(false)
  })
})
