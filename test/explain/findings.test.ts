import { describe, expect, it } from 'vitest'
import { findPlanIssues, parsePlanDocument, type Finding } from '../../src/explain/index.js'
import { DEFAULT_THRESHOLDS, niceWorkMem } from '../../src/explain/findings.js'
import { codes, findings, fixture, node } from './plan-builders.js'

const only = (list: Finding[], code: string) => {
  const matching = list.filter((finding) => finding.code === code)
  expect(matching).toHaveLength(1)
  return matching[0]!
}

describe('findings', () => {
  it('finds nothing in a healthy plan', () => {
    const healthy = node('Limit', { rows: 10, time: 0.05 }, [
      node('Index Scan', {
        rows: 10,
        est: 12,
        time: 0.04,
        relation: 'items',
        index: 'items_pkey',
        'Index Cond': '(id > 5)',
        'Shared Hit Blocks': 4,
        'Shared Read Blocks': 0,
      }),
    ])
    expect(findings(healthy, { 'Execution Time': 0.1, 'Planning Time': 0.1 })).toEqual([])
    expect(
      parsePlanDocument(fixture('items-by-sku-index-pg15.json'), 'fixture') &&
        findPlanIssues(parsePlanDocument(fixture('items-by-sku-index-pg15.json'), 'f')),
    ).toEqual([])
  })

  describe('a sequential scan that filters away most rows of a big table', () => {
    const scan = (returned: number, removed: number, extra = {}) =>
      node('Seq Scan', {
        rows: returned,
        est: returned,
        time: 20,
        relation: 'items',
        Filter: "(sku = 'SKU-1'::text)",
        'Rows Removed by Filter': removed,
        ...extra,
      })

    it('is reported with the rows examined and removed, and the index to create', () => {
      const finding = only(findings(scan(265, 99_735), { 'Execution Time': 21 }), 'seq-scan-filter')
      expect(finding).toMatchObject({ severity: 'critical', nodeId: 0, node: '#0 Seq Scan on items' })
      expect(finding.evidence).toMatchObject({
        rowsExamined: 100_000,
        rowsRemovedByFilter: 99_735,
        rowsReturned: 265,
        removedShare: 0.9974,
      })
      expect(finding.action).toContain('CREATE INDEX CONCURRENTLY ON items (sku)')
      expect(finding.title).toMatch(/throws away 99\.7\d% of them/)
    })

    it('is a warning, not critical, when the scan is a small part of the time', () => {
      const plan = node('Hash Join', { time: 100 }, [scan(10, 50_000, { time: 5 }), node('Seq Scan', { time: 1 })])
      expect(only(findings(plan, { 'Execution Time': 100 }), 'seq-scan-filter').severity).toBe('warning')
    })

    it.each([
      ['a small table', 10, 9_000],
      ['a filter that keeps many rows', 5_000, 20_000],
      ['no filter', 100_000, 0],
    ])('is not reported for %s', (_what, returned, removed) => {
      expect(codes(findings(scan(returned, removed)))).not.toContain('seq-scan-filter')
    })

    it('counts removed rows over all loops', () => {
      const finding = only(findings(scan(1, 999, { loops: 20 })), 'seq-scan-filter')
      expect(finding.evidence.rowsRemovedByFilter).toBe(19_980)
    })

    it('covers parallel sequential scans', () => {
      const plan = node('Gather', { time: 30, 'Workers Launched': 2, 'Workers Planned': 2 }, [
        scan(100, 33_000, { loops: 3, 'Parallel Aware': true }),
      ])
      expect(only(findings(plan), 'seq-scan-filter').node).toBe('#1 Parallel Seq Scan on items')
    })
  })

  describe('filters applied after an index scan', () => {
    it('are reported when they discard most fetched rows, with an index that includes the filter column', () => {
      const plan = node('Index Scan', {
        rows: 30,
        time: 5,
        relation: 'items',
        index: 'items_order_id_idx',
        'Index Cond': '((order_id >= 1) AND (order_id <= 5000))',
        Filter: '(quantity = 9)',
        'Rows Removed by Filter': 24_970,
      })
      const finding = only(findings(plan), 'index-filter')
      expect(finding.evidence).toMatchObject({ rowsFetched: 25_000, rowsRemovedByFilter: 24_970 })
      expect(finding.action).toContain('CREATE INDEX CONCURRENTLY ON items (order_id, quantity)')
    })

    it('are not reported when the filter keeps a fair share', () => {
      const plan = node('Index Scan', {
        rows: 3000,
        relation: 'items',
        index: 'i',
        Filter: '(quantity = 9)',
        'Rows Removed by Filter': 2000,
      })
      expect(findings(plan)).toEqual([])
    })
  })

  describe('row misestimates', () => {
    it('are reported from 10x, with the stale statistics that explain them', () => {
      const plan = node('Seq Scan', { rows: 50_000, est: 1, time: 10, relation: 'events', Filter: "(kind = 'rare'::text)" })
      const tables = {
        events: { liveRows: 60_000, modifiedSinceAnalyze: 50_000, rowsAtLastAnalyze: 10_000, lastAnalyze: '2024-01-01T00:00:00.000Z' },
      }
      const finding = only(findings(plan, {}, { tables }), 'row-misestimate')
      expect(finding).toMatchObject({
        severity: 'critical',
        evidence: {
          estimatedRows: 1,
          actualRows: 50_000,
          factor: 50_000,
          direction: 'under',
          likelyCause: 'stale-statistics',
          modifiedSinceAnalyze: 50_000,
        },
      })
      expect(finding.action).toBe(
        'Run ANALYZE events; and check that autovacuum analyzes it often enough (autovacuum_analyze_scale_factor).',
      )
    })

    it('blame correlated columns when statistics are fresh and two columns are combined', () => {
      const plan = node('Seq Scan', { rows: 1000, est: 10, relation: 'pairs', Filter: '((a = 1) AND (b = 1))' })
      const tables = {
        pairs: { liveRows: 100_000, modifiedSinceAnalyze: 0, rowsAtLastAnalyze: 100_000, lastAnalyze: '2024-01-01T00:00:00.000Z' },
      }
      const finding = only(findings(plan, {}, { tables }), 'row-misestimate')
      expect(finding.severity).toBe('warning')
      expect(finding.evidence.likelyCause).toBe('correlated-columns')
      expect(finding.action).toContain('CREATE STATISTICS pairs_a_b_stats (dependencies, mcv) ON a, b FROM pairs; ANALYZE pairs;')
    })

    it('are reported where they start, not on every node they propagate to', () => {
      const plan = node('Hash Join', { rows: 50_000, est: 5 }, [
        node('Seq Scan', { rows: 50_000, est: 5, relation: 'a', Filter: '(x = 1)' }),
        node('Hash', { rows: 10 }, [node('Seq Scan', { rows: 10, relation: 'b' })]),
      ])
      expect(
        findings(plan)
          .filter((f) => f.code === 'row-misestimate')
          .map((f) => f.nodeId),
      ).toEqual([1])
    })

    it.each([
      ['a factor below 10', { rows: 900, est: 100 }],
      ['a tiny node', { rows: 50, est: 1 }],
    ])('are not reported for %s', (_what, rows) => {
      expect(findings(node('Seq Scan', { ...rows, relation: 't' }))).toEqual([])
    })

    it('are not reported where the consumer stops early (Limit, Merge Join) or the node re-reads rows (Materialize)', () => {
      const underLimit = node('Limit', { rows: 10, est: 10 }, [node('Seq Scan', { rows: 10, est: 300_000, relation: 't' })])
      const underMerge = node('Merge Join', { rows: 10, est: 10 }, [
        node('Index Scan', { rows: 300, est: 300, index: 'a', relation: 't' }),
        node('Sort', { rows: 601, est: 6230 }, [node('Seq Scan', { rows: 6000, est: 6230, relation: 'u' })]),
      ])
      const materialize = node('Merge Join', { rows: 10, est: 10 }, [
        node('Seq Scan', { rows: 10, est: 10, relation: 'u' }),
        node('Materialize', { rows: 1_800_000, est: 6000 }, [node('Seq Scan', { rows: 6000, est: 6000, relation: 't' })]),
      ])
      for (const plan of [underLimit, underMerge, materialize]) expect(codes(findings(plan))).not.toContain('row-misestimate')
    })

    it("blame the function's fixed row estimate for a function scan, not table statistics", () => {
      const scan = node('Function Scan', {
        rows: 7143,
        est: 250,
        'Function Name': 'generate_series',
        Alias: 'g',
        Filter: '((g % 7) = 3)',
        'Rows Removed by Filter': 42_857,
      })
      const finding = only(findings(scan), 'row-misestimate')
      expect(finding.evidence.likelyCause).toBe('function-rows')
      expect(finding.action).toContain('ALTER FUNCTION generate_series ROWS 50000')
    })

    it('name join selectivity and distinct values as causes for joins and aggregates', () => {
      const join = node('Hash Join', { rows: 100_000, est: 100, 'Hash Cond': '(a.x = b.y)' }, [
        node('Seq Scan', { rows: 1000, est: 1000, relation: 'a' }),
        node('Hash', { rows: 1000, est: 1000 }),
      ])
      expect(only(findings(join), 'row-misestimate').evidence.likelyCause).toBe('join-selectivity')
      const aggregate = node('Aggregate', { rows: 20_000, est: 200, Strategy: 'Hashed', 'Group Key': ['a', 'b'] }, [
        node('Seq Scan', { rows: 20_000, est: 20_000, relation: 't' }),
      ])
      expect(only(findings(aggregate), 'row-misestimate').evidence.likelyCause).toBe('distinct-values')
    })
  })

  describe('spills to disk', () => {
    it('reports a sort on disk with a work_mem that avoids it', () => {
      const plan = node(
        'Sort',
        {
          rows: 300_000,
          'Sort Key': ['s'],
          'Sort Method': 'external merge',
          'Sort Space Used': 16_208,
          'Sort Space Type': 'Disk',
          'Temp Written Blocks': 2026,
        },
        [node('Seq Scan', { rows: 300_000, relation: 't' })],
      )
      const finding = only(findings(plan, { Settings: { work_mem: '64kB' } }), 'sort-spill')
      // Measured on PostgreSQL 15: this sort needed 38,070kB in memory; 64MB holds it.
      expect(finding.evidence).toMatchObject({
        diskKb: 16_208,
        rows: 300_000,
        suggestedWorkMem: '64MB',
        workMem: '64kB',
        tempBlocksWritten: 2026,
      })
      expect(finding.action).toContain("SET work_mem = '64MB'")
    })

    it('reports nothing for a sort in memory', () => {
      expect(findings(node('Sort', { 'Sort Method': 'quicksort', 'Sort Space Used': 25, 'Sort Space Type': 'Memory' }))).toEqual([])
    })

    it('reports a hash join that needed several batches, with hash_mem_multiplier taken into account', () => {
      const plan = node('Hash Join', { rows: 10 }, [
        node('Seq Scan', { rows: 10 }),
        node('Hash', {
          rows: 300_000,
          'Hash Buckets': 2048,
          'Original Hash Buckets': 2048,
          'Hash Batches': 256,
          'Original Hash Batches': 256,
          'Peak Memory Usage': 110,
        }),
      ])
      const finding = only(findings(plan), 'hash-spill')
      // Measured on PostgreSQL 15: 26,655kB in one batch; 32MB x 2 holds it.
      expect(finding.evidence).toMatchObject({ hashBatches: 256, peakMemoryKb: 110, hashMemMultiplier: 2, suggestedWorkMem: '32MB' })
      const older = findPlanIssues(parsePlanDocument(JSON.stringify({ Plan: plan }), 'x'), { serverVersion: 140000 })
      expect(only(older, 'hash-spill').evidence).toMatchObject({ hashMemMultiplier: 1, suggestedWorkMem: '64MB' })
    })

    it('reports a HashAggregate that spilled', () => {
      const plan = node('Aggregate', {
        rows: 300_000,
        est: 300_000,
        Strategy: 'Hashed',
        'HashAgg Batches': 1365,
        'Peak Memory Usage': 169,
        'Disk Usage': 17_528,
      })
      // Measured on PostgreSQL 15: 53,265kB without spilling; 32MB x 2 holds it.
      expect(only(findings(plan), 'hash-spill').evidence).toMatchObject({ hashAggBatches: 1365, suggestedWorkMem: '32MB' })
    })

    it('rounds work_mem to values a person would type', () => {
      expect([10, 64, 65, 1000, 1025, 40_000].map(niceWorkMem)).toEqual(['64kB', '64kB', '128kB', '1MB', '2MB', '64MB'])
    })
  })

  describe('nested loops with very many inner loops', () => {
    const loop = (loops: number, innerTime: number, inner = 'Index Scan') =>
      node('Nested Loop', { rows: loops, time: 100 }, [
        node('Seq Scan', { rows: loops, est: 10, relation: 'orders', time: 5 }),
        node(inner, {
          loops,
          rows: 1,
          time: innerTime,
          relation: 'items',
          index: inner === 'Index Scan' ? 'items_order_id_idx' : undefined,
          Filter: inner === 'Seq Scan' ? '(order_id = orders.id)' : undefined,
        }),
      ])

    it("are reported with the loops and the inner side's share of the time", () => {
      const finding = only(findings(loop(100_000, 0.0009), { 'Execution Time': 100 }), 'nested-loop-loops')
      expect(finding.evidence).toMatchObject({
        innerLoops: 100_000,
        innerTimeMs: 90,
        innerShare: 0.9,
        outerEstimatedRows: 10,
        outerActualRows: 100_000,
      })
      expect(finding.severity).toBe('critical')
      expect(finding.action).toContain('enable_nestloop=off')
    })

    it('suggest indexing the join column when the inner side is a sequential scan', () => {
      expect(only(findings(loop(2000, 0.04, 'Seq Scan'), { 'Execution Time': 100 }), 'nested-loop-loops').action).toContain(
        'CREATE INDEX CONCURRENTLY ON items (order_id)',
      )
    })

    it('are not reported with few loops or a cheap inner side (Memoize)', () => {
      expect(codes(findings(loop(500, 0.1), { 'Execution Time': 100 }))).not.toContain('nested-loop-loops')
      expect(codes(findings(loop(100_000, 0.00001), { 'Execution Time': 100 }))).not.toContain('nested-loop-loops')
    })
  })

  it('reports lossy bitmap heap blocks', () => {
    const plan = node(
      'Bitmap Heap Scan',
      {
        rows: 6000,
        relation: 't',
        'Recheck Cond': '(a < 2)',
        'Rows Removed by Index Recheck': 216_211,
        'Exact Heap Blocks': 742,
        'Lossy Heap Blocks': 2062,
      },
      [node('Bitmap Index Scan', { index: 't_a', rows: 6000 })],
    )
    const finding = only(findings(plan), 'lossy-bitmap')
    // Measured on PostgreSQL 15: 256kB keeps these 2,804 pages exact.
    expect(finding).toMatchObject({
      severity: 'warning',
      evidence: { lossyHeapBlocks: 2062, exactHeapBlocks: 742, rowsRemovedByIndexRecheck: 216_211, suggestedWorkMem: '256kB' },
    })
    const fewLossy = node('Bitmap Heap Scan', { 'Exact Heap Blocks': 1000, 'Lossy Heap Blocks': 5 })
    expect(only(findings(fewLossy), 'lossy-bitmap').severity).toBe('info')
    expect(findings(node('Bitmap Heap Scan', { 'Exact Heap Blocks': 1000, 'Lossy Heap Blocks': 0 }))).toEqual([])
  })

  it('reports heap fetches on an index-only scan and asks for VACUUM', () => {
    const finding = only(
      findings(node('Index Only Scan', { rows: 10_000, relation: 'vis', index: 'vis_pkey', 'Heap Fetches': 9_999 })),
      'heap-fetches',
    )
    expect(finding.evidence).toMatchObject({ heapFetches: 9_999, rowsReturned: 10_000 })
    expect(finding.action).toContain('VACUUM (ANALYZE) vis')
    expect(findings(node('Index Only Scan', { rows: 10_000, relation: 'vis', index: 'vis_pkey', 'Heap Fetches': 50 }))).toEqual([])
    expect(findings(node('Index Only Scan', { rows: 100_000, relation: 'vis', index: 'vis_pkey', 'Heap Fetches': 5000 }))).toEqual([])
  })

  it('reports reads dominating hits, with I/O time when tracked', () => {
    const scan = (hit: number, read: number, io?: number) =>
      node('Seq Scan', {
        rows: 100,
        relation: 'cold',
        time: 10,
        'Shared Hit Blocks': hit,
        'Shared Read Blocks': read,
        ...(io !== undefined ? { 'I/O Read Time': io } : {}),
      })
    const finding = only(findings(scan(32, 9000, 8), { 'Execution Time': 10 }), 'cold-cache')
    expect(finding).toMatchObject({
      severity: 'warning',
      node: '#0 Seq Scan on cold',
      evidence: { sharedReadBlocks: 9000, sharedHitBlocks: 32, ioReadTimeMs: 8, ioShare: 0.8 },
    })
    expect(only(findings(scan(32, 9000)), 'cold-cache').severity).toBe('info')
    expect(findings(scan(9000, 5000))).toEqual([])
    expect(findings(scan(10, 500))).toEqual([])
  })

  it('reports JIT dominating a short query (fixture captured from PostgreSQL 15 with jit_above_cost=0)', () => {
    const model = parsePlanDocument(fixture('jit-short-query-pg15.json'), 'jit')
    const finding = only(findPlanIssues(model), 'jit-dominates')
    expect(finding.nodeId).toBeNull()
    expect(finding.evidence.jitShare).toBeGreaterThan(0.5)
    expect(finding.evidence.jitAboveCost).toBe('0')
    expect(finding.action).toMatch(/raise jit_above_cost above its cost \(\d+; now 0\)/)
    const cheap = node('Result', { time: 1 })
    expect(findings(cheap, { 'Execution Time': 100, JIT: { Functions: 1, Timing: { Total: 20 } } })).toEqual([])
    expect(codes(findings(cheap, { 'Execution Time': 30, JIT: { Functions: 1, Timing: { Total: 20 } } }))).toEqual(['jit-dominates'])
  })

  it('orders findings by severity and lets thresholds be tuned', () => {
    const plan = node('Nested Loop', { rows: 10, time: 100 }, [
      node('Seq Scan', { rows: 10, relation: 'a', time: 1, 'Rows Removed by Filter': 500_000, Filter: '(x = 1)' }),
      node('Index Only Scan', { rows: 1, loops: 10, relation: 'b', index: 'b_pkey', 'Heap Fetches': 200 }),
    ])
    const list = findings(plan, { 'Execution Time': 100 })
    expect(list.map((f) => f.severity)).toEqual(
      [...list.map((f) => f.severity)].sort(
        (a, b) => ['critical', 'warning', 'info'].indexOf(a) - ['critical', 'warning', 'info'].indexOf(b),
      ),
    )
    expect(
      codes(
        findPlanIssues(parsePlanDocument(JSON.stringify({ Plan: plan, 'Execution Time': 100 }), 'x'), {
          thresholds: { seqScanMinRows: 10_000_000 },
        }),
      ),
    ).not.toContain('seq-scan-filter')
    expect(DEFAULT_THRESHOLDS.misestimateFactor).toBe(10)
  })
})
