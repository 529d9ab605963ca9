import { describe, expect, it } from 'vitest'
import { diffPlans, findPlanIssues, type PlanModel } from '../../src/explain/index.js'
import { explainPlanText } from '../../src/explain/explain.js'
import { fixture, node, plan } from './plan-builders.js'

const side = (label: string, model: PlanModel) => ({ label, plan: model, findings: findPlanIssues(model) })
const indexPlan = () => explainPlanText(fixture('items-by-sku-index-pg15.json'), 'index.json')
const seqPlan = () => explainPlanText(fixture('items-by-sku-seqscan-pg15.json'), 'seqscan.json')

describe('plan diff', () => {
  it('flags an index scan that became a sequential scan, its cost and time, and the new finding', () => {
    const diff = diffPlans({ label: 'before', ...indexPlan() }, { label: 'after', ...seqPlan() })
    expect(diff.accessChanges).toEqual([
      { relation: 'items', before: ['Bitmap Heap Scan using items_sku_idx'], after: ['Seq Scan'], lostIndex: true },
    ])
    expect(diff.nodeTypeChanges).toEqual([{ path: '0.0', before: 'Bitmap Heap Scan on items', after: 'Seq Scan on items' }])
    expect(diff.costRatio).toBeGreaterThan(3)
    expect(diff.newFindings.map((finding) => finding.code)).toEqual(['seq-scan-filter'])
    expect(diff.regression).toBe(true)
    expect(diff.regressions).toEqual([
      expect.stringMatching(/^total cost rose \d+\.\d\dx \(562 -> 1997.93\), above the 1.5x limit$/),
      expect.stringMatching(/^execution time rose/),
      expect.stringMatching(/^new critical finding on #1 Seq Scan on items: Sequential scan of items reads 100,000 rows/),
    ])
  })

  it('sees the reverse (the index arrives) as an improvement, not a regression', () => {
    const diff = diffPlans({ label: 'before', ...seqPlan() }, { label: 'after', ...indexPlan() })
    expect(diff.regression).toBe(false)
    expect(diff.resolvedFindings.map((finding) => finding.code)).toEqual(['seq-scan-filter'])
    expect(diff.accessChanges[0]!.lostIndex).toBe(false)
  })

  it('finds no change between a plan and itself', () => {
    const diff = diffPlans({ label: 'a', ...seqPlan() }, { label: 'b', ...seqPlan() })
    expect(diff).toMatchObject({ costRatio: 1, timeRatio: 1, accessChanges: [], nodeTypeChanges: [], newFindings: [], regression: false })
  })

  it.each([
    ['cost within the ratio', 100, 140, 10, 10, false],
    ['cost above the ratio', 100, 160, 10, 10, true],
    ['time above the ratio', 100, 100, 10, 25, true],
    ['time above the ratio but under the minimum increase', 100, 100, 0.1, 0.5, false],
  ])('%s', (_what, costBefore, costAfter, timeBefore, timeAfter, regression) => {
    const model = (cost: number, time: number) => plan(node('Seq Scan', { cost, time, relation: 't' }), { 'Execution Time': time })
    expect(diffPlans(side('a', model(costBefore, timeBefore)), side('b', model(costAfter, timeAfter))).regression).toBe(regression)
  })

  it('applies custom limits', () => {
    const model = (cost: number) => plan(node('Seq Scan', { cost, relation: 't' }), { 'Execution Time': 1 })
    expect(diffPlans(side('a', model(100)), side('b', model(160)), { maxCostRatio: 2 }).regression).toBe(false)
  })

  it('ignores time when either plan was not analyzed', () => {
    const estimated = plan(node('Seq Scan', { cost: 100, analyzed: false, relation: 't' }))
    const analyzed = plan(node('Seq Scan', { cost: 100, time: 500, relation: 't' }), { 'Execution Time': 500 })
    expect(diffPlans(side('a', estimated), side('b', analyzed))).toMatchObject({ timeRatio: null, regression: false })
  })

  it('does not fail on a new info finding', () => {
    const before = plan(node('Seq Scan', { rows: 10, relation: 'cold', 'Shared Hit Blocks': 9000, 'Shared Read Blocks': 0 }), {
      'Execution Time': 5,
    })
    const after = plan(node('Seq Scan', { rows: 10, relation: 'cold', 'Shared Hit Blocks': 0, 'Shared Read Blocks': 9000 }), {
      'Execution Time': 5,
    })
    const diff = diffPlans(side('a', before), side('b', after))
    expect(diff.newFindings.map((finding) => [finding.code, finding.severity])).toEqual([['cold-cache', 'info']])
    expect(diff.regression).toBe(false)
  })
})
