import { describe, expect, it } from 'vitest'
import { parsePlanDocument } from '../../src/explain/index.js'
import { rowEstimate } from '../../src/explain/model.js'
import { fixture, node, plan } from './plan-builders.js'

describe('the plan model', () => {
  it("takes each node's self time as its time minus its children's, times loops", () => {
    const model = plan(
      node('Nested Loop', { time: 50, rows: 1000 }, [
        node('Seq Scan', { time: 10, rows: 1000, relation: 'orders' }),
        node('Index Scan', { time: 0.03, rows: 1, loops: 1000, relation: 'items', index: 'items_pkey' }),
      ]),
      { 'Execution Time': 50.5 },
    )
    const [loop, outer, inner] = model.nodes
    expect(inner!.inclusiveTime).toBeCloseTo(30)
    expect(inner!.selfTime).toBeCloseTo(30)
    expect(outer!.selfTime).toBeCloseTo(10)
    expect(loop!.selfTime).toBeCloseTo(10)
    expect(inner!.selfShare).toBeCloseTo(30 / 50.5)
    expect(inner!.rowsTotal).toBe(1000)
    expect(model.totalTime).toBe(50.5)
  })

  it('divides the time of nodes below a Gather by the processes that ran them (workers + leader)', () => {
    const model = plan(
      node('Gather', { time: 40, rows: 3000, 'Workers Planned': 2, 'Workers Launched': 2 }, [
        node('Seq Scan', { time: 36, rows: 1000, loops: 3, relation: 'items', 'Parallel Aware': true }),
      ]),
    )
    expect(model.nodes[1]!.processes).toBe(3)
    expect(model.nodes[1]!.inclusiveTime).toBeCloseTo(36)
    expect(model.nodes[0]!.selfTime).toBeCloseTo(4)
    expect(model.nodes[1]!.label).toBe('Parallel Seq Scan on items')
  })

  it('does not count the leader when parallel_leader_participation is off', () => {
    const model = plan(
      node('Gather', { time: 40, 'Workers Launched': 2, 'Workers Planned': 2 }, [node('Seq Scan', { time: 30, loops: 2 })]),
      {
        Settings: { parallel_leader_participation: 'off' },
      },
    )
    expect(model.nodes[1]!.processes).toBe(2)
    expect(model.nodes[1]!.inclusiveTime).toBeCloseTo(30)
  })

  it('never gives a node a negative self time', () => {
    const model = plan(node('Limit', { time: 1 }, [node('Seq Scan', { time: 5 })]))
    expect(model.nodes[0]!.selfTime).toBe(0)
  })

  it("keeps a CTE's time with the CTE's nodes, not again in the CTE Scan that pulls from it", () => {
    const model = plan(
      node('Hash Join', { time: 100 }, [
        node('Aggregate', { time: 80, subplan: 'CTE c', relationship: 'InitPlan' }, [node('Seq Scan', { time: 60, relation: 't' })]),
        node('CTE Scan', { time: 90, 'CTE Name': 'c', relationship: 'Outer' }),
        node('Seq Scan', { time: 5, relation: 'u', relationship: 'Inner' }),
      ]),
      { 'Execution Time': 100 },
    )
    const self = model.nodes.map((n) => Number((n.selfTime ?? 0).toFixed(3)))
    expect(self).toEqual([5, 20, 60, 10, 5])
    expect(self.reduce((a, b) => a + b, 0)).toBeCloseTo(100)
  })

  it.each([
    [100, 100, 1, 'exact'],
    [1000, 10, 100, 'under'],
    [10, 1000, 100, 'over'],
    [0, 500, 500, 'over'],
    [0, 1, 1, 'exact'],
    [0.5, 1, 1, 'exact'],
  ] as const)('estimates %d actual vs %d planned rows as factor %d, %s', (actual, planned, factor, direction) => {
    expect(rowEstimate(actual, planned)).toEqual({ factor, direction })
  })

  it('totals rows removed by filter, recheck and join filter over all loops', () => {
    const model = plan(
      node('Bitmap Heap Scan', {
        loops: 4,
        'Rows Removed by Filter': 10,
        'Rows Removed by Index Recheck': 100,
        'Rows Removed by Join Filter': 1,
        'Exact Heap Blocks': 5,
        'Lossy Heap Blocks': 7,
      }),
    )
    expect(model.nodes[0]!.removed).toEqual({ filter: 40, indexRecheck: 400, joinFilter: 4 })
    expect(model.nodes[0]!.bitmap).toEqual({ exactBlocks: 5, lossyBlocks: 7 })
  })

  it('reports a node that never ran as not executed, with no estimate and zero time', () => {
    const model = plan(node('Hash Join', { time: 1 }, [node('Seq Scan', { time: 1 }), node('Hash', { loops: 0, rows: 0, time: 0 })]))
    expect(model.nodes[2]).toMatchObject({ executed: false, estimate: null, inclusiveTime: 0 })
  })

  it('builds an estimated plan (no ANALYZE) with costs and no times', () => {
    const model = plan(node('Seq Scan', { analyzed: false, cost: 1997.93, est: 277, relation: 'items' }))
    expect(model.analyzed).toBe(false)
    expect(model.nodes[0]).toMatchObject({ executed: false, inclusiveTime: null, selfTime: null, estimate: null, totalCost: 1997.93 })
    expect(model.totalTime).toBeNull()
  })

  it("splits buffers into the node's own blocks", () => {
    const blocks = (hit: number, read: number) => ({
      'Shared Hit Blocks': hit,
      'Shared Read Blocks': read,
      'Temp Read Blocks': 0,
      'Temp Written Blocks': 0,
    })
    const model = plan(node('Sort', blocks(100, 50), [node('Seq Scan', blocks(90, 50))]))
    expect(model.nodes[0]!.selfBuffers).toMatchObject({ sharedHit: 10, sharedRead: 0 })
    expect(model.nodes[1]!.selfBuffers).toMatchObject({ sharedHit: 90, sharedRead: 50 })
  })

  it('reads I/O timing under its PostgreSQL 13-16 and 17+ names', () => {
    const old = plan(node('Seq Scan', { 'I/O Read Time': 1.5, 'I/O Write Time': 0.5, 'Temp I/O Read Time': 2 }))
    const current = plan(
      node('Seq Scan', { 'Shared I/O Read Time': 1, 'Local I/O Read Time': 0.5, 'Shared I/O Write Time': 0.5, 'Temp I/O Write Time': 3 }),
    )
    expect(old.nodes[0]!.io).toEqual({ readTime: 1.5, writeTime: 0.5, tempReadTime: 2, tempWriteTime: 0 })
    expect(current.nodes[0]!.io).toEqual({ readTime: 1.5, writeTime: 0.5, tempReadTime: 0, tempWriteTime: 3 })
  })

  it("reads JIT timing, including PostgreSQL 17's nested Generation", () => {
    const jit = (generation: unknown) =>
      plan(node('Result'), {
        JIT: {
          Functions: 3,
          Options: { Inlining: true },
          Timing: { Generation: generation, Inlining: 1, Optimization: 2, Emission: 3, Total: 10 },
        },
      } as never).jit
    expect(jit(4)).toMatchObject({ functions: 3, generationTime: 4, totalTime: 10, options: { Inlining: true } })
    expect(jit({ Deform: 1, Total: 4 })).toMatchObject({ generationTime: 4 })
  })

  it('names nodes the way the text format does', () => {
    const labels = plan(
      node('Aggregate', { Strategy: 'Hashed', 'Partial Mode': 'Finalize' }, [
        node('Hash Join', { join: 'Left' }, [
          node('Index Scan', { relation: 'items', alias: 'i', index: 'items_pkey', 'Scan Direction': 'Backward' }),
          node('Nested Loop', { join: 'Anti' }, [
            node('Bitmap Index Scan', { index: 'orders_user_id_idx' }),
            node('ModifyTable', { Operation: 'Update', relation: 'users' }),
          ]),
        ]),
      ]),
    ).nodes.map((n) => n.label)
    expect(labels).toEqual([
      'Finalize HashAggregate',
      'Hash Left Join',
      'Index Scan Backward using items_pkey on items i',
      'Nested Loop Anti Join',
      'Bitmap Index Scan on orders_user_id_idx',
      'Update on users',
    ])
  })

  it('merges per-worker details by worker number, from one or two "Workers" keys', () => {
    const model = parsePlanDocument(fixture('duplicate-workers-pg12-shape.json'), 'fixture')
    const sort = model.nodes[1]!
    expect(sort.workerDetails).toHaveLength(2)
    expect(sort.workerDetails[0]).toMatchObject({ 'Worker Number': 0, 'Sort Space Used': 73552, 'Actual Rows': 2917007 })
    expect(sort.workerDetails[1]).toMatchObject({ 'Worker Number': 1, 'Sort Space Used': 73320, 'Actual Rows': 2909034 })
    expect(model.duplicateKeys).toEqual({ Workers: 1 })
  })

  it('models a parallel plan captured from PostgreSQL 15 with per-worker details', () => {
    const model = parsePlanDocument(fixture('parallel-verbose-pg15.json'), 'fixture')
    const partial = model.nodes.find((n) => n.label === 'Partial HashAggregate')!
    expect(partial.processes).toBe(3)
    expect(partial.workerDetails.map((worker) => worker['Worker Number'])).toEqual([0, 1])
    expect(model.nodes.find((n) => n.nodeType === 'Gather')!.workers).toEqual({ planned: 2, launched: 2 })
    const selfSum = model.nodes.reduce((sum, n) => sum + (n.selfTime ?? 0), 0)
    expect(selfSum).toBeLessThanOrEqual(model.executionTime! * 1.01)
    expect(model.settings).toMatchObject({ parallel_setup_cost: '0' })
    expect(model.planningBuffers?.sharedHit).toBeGreaterThan(0)
  })

  it('models a PostgreSQL 18 plan (PGlite) with fractional rows and the newer I/O keys', () => {
    const model = parsePlanDocument(fixture('pglite18-aggregate.json'), 'fixture')
    expect(model.analyzed).toBe(true)
    expect(model.nodes[0]!.actualRows).toBe(50)
    expect(model.nodes[0]!.io).not.toBeNull()
    expect(model.nodes[0]!.properties.Disabled).toBe(false)
  })

  it('keeps every property PostgreSQL reported on the node', () => {
    const model = plan(node('Seq Scan', { relation: 'items', 'Some Future Key': 'kept', Output: ['a', 'b'] }))
    expect(model.nodes[0]!.properties).toMatchObject({ 'Some Future Key': 'kept', Output: ['a', 'b'], 'Relation Name': 'items' })
  })
})
