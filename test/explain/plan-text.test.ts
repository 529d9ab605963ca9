import { describe, expect, it } from 'vitest'
import { parsePlanDocument, type PlanModel } from '../../src/explain/index.js'
import { parseTextPlan } from '../../src/explain/plan-text.js'
import { fixture } from './plan-builders.js'

/** What must agree between the JSON and the text format of the same plan (times differ run to run). */
function shape(model: PlanModel) {
  return model.nodes.map((n) => ({
    depth: n.depth,
    label: n.label,
    relationship: n.parentRelationship,
    subplan: n.subplanName,
    cost: [n.startupCost, n.totalCost, n.planRows, n.planWidth],
    loops: n.loops,
    sortKey: n.sortKey,
    groupKey: n.groupKey,
    conditions: [n.filter, n.indexCond, n.recheckCond, n.hashCond, n.mergeCond, n.joinFilter],
    sortMethod: n.sort?.method ?? null,
    workers: n.workers,
  }))
}

describe('the text-format plan parser', () => {
  it.each(['subplans-pg15', 'spill-lossy-pg15', 'parallel-verbose-pg15'])('reads %s.txt into the same tree as the JSON format', (name) => {
    const fromJson = parsePlanDocument(fixture(`${name}.json`), `${name}.json`)
    const fromText = parsePlanDocument(fixture(`${name}.txt`), `${name}.txt`)
    expect(fromText.format).toBe('text')
    expect(shape(fromText)).toEqual(shape(fromJson))
    expect(fromText.skipped.lines).toBe(0)
    expect(fromText.settings).toEqual(fromJson.settings)
  })

  it('reads the numbers of a spilling sort, a lossy bitmap and I/O timings', () => {
    const model = parsePlanDocument(fixture('spill-lossy-pg15.txt'), 'spill')
    const sort = model.nodes.find((n) => n.nodeType === 'Sort')!
    expect(sort.sort).toEqual({ method: 'external merge', spaceUsedKb: 360, spaceType: 'Disk' })
    expect(sort.buffers).toMatchObject({ sharedHit: 2812, tempRead: 51, tempWritten: 98 })
    expect(sort.io).toMatchObject({ tempReadTime: 0.107, tempWriteTime: 0.808 })
    const bitmap = model.nodes.find((n) => n.nodeType === 'Bitmap Heap Scan')!
    expect(bitmap.bitmap).toEqual({ exactBlocks: 742, lossyBlocks: 2062 })
    expect(bitmap.removed.indexRecheck).toBe(216211)
    expect(model.executionTime).toBe(925.269)
    expect(model.planningTime).toBe(1.176)
  })

  it('reads subplans, CTEs and a spilling HashAggregate', () => {
    const model = parsePlanDocument(fixture('subplans-pg15.txt'), 'subplans')
    expect(model.nodes.filter((n) => n.subplanName).map((n) => n.subplanName)).toEqual([
      'CTE c',
      'InitPlan 2 (returns $1)',
      'InitPlan 4 (returns $3)',
      'InitPlan 3 (returns $2)',
      'SubPlan 5',
    ])
    expect(model.nodes.find((n) => n.hashAgg)!.hashAgg).toEqual({ batches: 5, peakMemoryKb: 161, diskUsageKb: 2904 })
    expect(model.nodes.find((n) => n.nodeType === 'Hash')!.hash).toEqual({
      buckets: 1024,
      originalBuckets: 1024,
      batches: 1,
      originalBatches: 1,
      peakMemoryKb: 44,
    })
    expect(model.nodes.filter((n) => n.heapFetches !== null).map((n) => n.heapFetches)).toEqual([1, 50])
  })

  it('reads per-worker lines and worker JIT blocks', () => {
    const model = parsePlanDocument(fixture('parallel-verbose-pg15.txt'), 'parallel')
    const partial = model.nodes.find((n) => n.label === 'Partial HashAggregate')!
    expect(partial.workerDetails).toEqual([
      expect.objectContaining({ 'Worker Number': 0, 'Actual Rows': 966, 'HashAgg Batches': 1, 'Shared Hit Blocks': 220 }),
      expect.objectContaining({ 'Worker Number': 1, 'Actual Rows': 964, 'Shared Hit Blocks': 199 }),
    ])
  })

  it('reads PostgreSQL 18 output (fractional rows) from PGlite', () => {
    const model = parsePlanDocument(fixture('pglite18-sort-spill.txt'), 'pglite')
    expect(model.nodes.map((n) => [n.label, n.actualRows])).toEqual([
      ['Sort', 25000],
      ['Seq Scan on t', 25000],
    ])
    expect(model.nodes[0]!.sort?.spaceType).toBe('Disk')
    expect(model.settings.work_mem).toBe('64kB')
  })

  it('reads plans without ANALYZE, never-executed nodes, JIT and triggers', () => {
    const text = [
      'Hash Join  (cost=10.00..20.00 rows=5 width=8) (actual time=0.100..0.200 rows=0 loops=1)',
      '  Hash Cond: (a.id = b.id)',
      '  ->  Seq Scan on a  (cost=0.00..5.00 rows=100 width=4) (actual time=0.010..0.010 rows=0 loops=1)',
      '  ->  Hash  (cost=5.00..5.00 rows=100 width=4) (never executed)',
      '        ->  Seq Scan on b  (cost=0.00..5.00 rows=100 width=4) (never executed)',
      'Planning Time: 0.050 ms',
      'Trigger for constraint items_order_id_fkey: time=1.500 calls=10',
      'JIT:',
      '  Functions: 4',
      '  Options: Inlining false, Optimization false, Expressions true, Deforming true',
      '  Timing: Generation 0.290 ms (Deform 0.116 ms), Inlining 0.000 ms, Optimization 0.500 ms, Emission 3.000 ms, Total 3.790 ms',
      'Execution Time: 5.000 ms',
    ].join('\n')
    const model = parsePlanDocument(text, 'inline')
    expect(model.nodes.map((n) => n.executed)).toEqual([true, true, false, false])
    expect(model.jit).toMatchObject({
      functions: 4,
      generationTime: 0.29,
      totalTime: 3.79,
      options: { Inlining: false, Expressions: true },
    })
    expect(model.triggers).toEqual([{ name: 'for constraint items_order_id_fkey', relation: null, time: 1.5, calls: 10 }])
    const estimated = parsePlanDocument(
      "Seq Scan on items  (cost=0.00..1997.93 rows=277 width=30)\n  Filter: (sku = 'x'::text)\n",
      'estimated',
    )
    expect(estimated.analyzed).toBe(false)
    expect(estimated.nodes[0]).toMatchObject({ label: 'Seq Scan on items', totalCost: 1997.93, planRows: 277, filter: "(sku = 'x'::text)" })
  })

  it('counts the lines it did not understand instead of dropping them silently', () => {
    const parsed = parseTextPlan('Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n  this line means nothing\n')
    expect(parsed.skipped).toEqual({ lines: 1, reasons: { 'not a "Key: value" line': 1 } })
  })
})

describe('reading a plan document', () => {
  it('accepts psql\'s aligned output of a JSON plan (header, "+" continuations, row count)', () => {
    const json = fixture('items-by-sku-seqscan-pg15.json').trim().split('\n')
    const aligned = [
      '                QUERY PLAN',
      '------------------------------------------',
      ...json.map((line) => ` ${line}+`),
      '(1 row)',
    ].join('\n')
    expect(parsePlanDocument(aligned, 'aligned').nodes.map((n) => n.label)).toEqual(['Sort', 'Seq Scan on items'])
  })

  it('accepts what the pg driver returns ({"QUERY PLAN": [...]})', () => {
    const wrapped = JSON.stringify([{ 'QUERY PLAN': JSON.parse(fixture('items-by-sku-seqscan-pg15.json')) }])
    expect(parsePlanDocument(wrapped, 'wrapped').nodes).toHaveLength(2)
  })

  it.each([
    [
      'a truncated JSON plan',
      '[\n  {\n    "Plan": {\n      "Node Type": "Se',
      /Cannot read plan plans\/x: truncated JSON, unterminated string at line 4, column 20/,
    ],
    [
      'a JSON plan cut after a value',
      truncateAfterComma(fixture('items-by-sku-seqscan-pg15.json'), 300),
      /truncated JSON, unexpected end of input, expected a key in quotes at line 12, column 35/,
    ],
    [
      'a corrupt JSON plan',
      '[\n  {\n    "Plan": {\n      "Node Type": "Sort",,\n',
      /Cannot read plan plans\/x: .*expected a key in quotes at line 4, column 27/,
    ],
    ['JSON without a plan', '{"rows": []}', /valid JSON, but no EXPLAIN "Plan" object/],
    ['an empty file', '  \n', /it is empty/],
    ['prose', 'hello, this is not a plan', /neither EXPLAIN JSON nor a text-format plan/],
    ['a child before the root', '  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)', /a child node .* at line 1, column 3/],
  ])('refuses %s with the file, line and column (exit 2)', (_what, text, message) => {
    try {
      parsePlanDocument(text, 'plans/x')
      expect.unreachable()
    } catch (error) {
      expect((error as Error).message).toMatch(message)
      expect((error as { exit: number }).exit).toBe(2)
    }
  })
})

function truncateAfterComma(text: string, near: number): string {
  return text.slice(0, text.lastIndexOf(',', near) + 1)
}
