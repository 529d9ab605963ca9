/**
 * Findings: what is wrong with a plan, on which node, the numbers that prove it and what to do.
 * Pure: a plan model (and optional table statistics the runner read) in, findings out. Each rule's
 * trigger is a named threshold in DEFAULT_THRESHOLDS, so tests and docs can refer to it.
 */
import { formatBytes, formatDuration } from '../core/index.js'
import { conditionColumns, quoteIdent } from './conditions.js'
import type { PlanModel, PlanNode } from './model.js'

export type Severity = 'info' | 'warning' | 'critical'

export type FindingCode =
  | 'seq-scan-filter'
  | 'row-misestimate'
  | 'sort-spill'
  | 'hash-spill'
  | 'nested-loop-loops'
  | 'lossy-bitmap'
  | 'heap-fetches'
  | 'cold-cache'
  | 'jit-dominates'
  | 'index-filter'

export interface Finding {
  code: FindingCode
  severity: Severity
  /** The node's id in the model (null for plan-wide findings such as JIT). */
  nodeId: number | null
  node: string
  title: string
  /** The numbers that prove it. */
  evidence: Record<string, number | string>
  /** A concrete next step. */
  action: string
}

export interface TableStatistics {
  /** n_live_tup from pg_stat_all_tables. */
  liveRows: number
  /** n_mod_since_analyze. */
  modifiedSinceAnalyze: number
  /** reltuples: the row count as of the last ANALYZE or VACUUM (-1: never). */
  rowsAtLastAnalyze: number
  lastAnalyze: string | null
}

export interface FindingContext {
  /** Statistics per table name (and schema.table), read by the runner before EXPLAIN. */
  tables?: Record<string, TableStatistics>
  /** server_version_num, when known: hash_mem_multiplier defaults to 2 from 15, 1 before. */
  serverVersion?: number
  thresholds?: Partial<Thresholds>
}

export interface Thresholds {
  /** A sequential scan is worth indexing when it reads at least this many rows... */
  seqScanMinRows: number
  /** ...and its filter removes at least this share of them. */
  removedShare: number
  /** Rows removed after an index scan: the same share, at least this many rows. */
  indexFilterMinRows: number
  /** Row estimates off by this factor or more... */
  misestimateFactor: number
  /** ...on a node with at least this many rows (actual or estimated, all loops). */
  misestimateMinRows: number
  /** Factor from which a misestimate is critical. */
  misestimateCriticalFactor: number
  /** A nested loop whose inner side runs at least this many times... */
  nestedLoopMinLoops: number
  /** ...and takes at least this share of the total time. */
  nestedLoopMinShare: number
  /** Heap fetches on an index-only scan: at least this many, and this share of the rows returned. */
  heapFetchesMinCount: number
  heapFetchesMinShare: number
  /** Blocks read from outside shared buffers, at least this many, and more than the hits. */
  coldCacheMinReadBlocks: number
  /** JIT time at least this share of the execution time, and at least this many ms. */
  jitMinShare: number
  jitMinTime: number
  /** A node above this share of the total time makes a warning critical. */
  criticalShare: number
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  seqScanMinRows: 10_000,
  removedShare: 0.9,
  indexFilterMinRows: 1000,
  misestimateFactor: 10,
  misestimateMinRows: 100,
  misestimateCriticalFactor: 1000,
  nestedLoopMinLoops: 1000,
  nestedLoopMinShare: 0.2,
  heapFetchesMinCount: 100,
  heapFetchesMinShare: 0.1,
  coldCacheMinReadBlocks: 1000,
  jitMinShare: 0.5,
  jitMinTime: 5,
  criticalShare: 0.5,
}

const BLOCK_SIZE = 8192
const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 }

export function findPlanIssues(model: PlanModel, context: FindingContext = {}): Finding[] {
  const limits = { ...DEFAULT_THRESHOLDS, ...context.thresholds }
  const findings: Finding[] = []
  for (const node of model.nodes) {
    findings.push(
      ...[
        seqScanFilter(node, limits),
        indexFilter(node, limits),
        rowMisestimate(model, node, limits, context),
        sortSpill(model, node, limits),
        hashSpill(model, node, limits, context),
        nestedLoop(model, node, limits),
        lossyBitmap(node),
        heapFetches(node, limits),
      ].filter((finding): finding is Finding => finding !== null),
    )
  }
  const cold = coldCache(model, limits)
  if (cold) findings.push(cold)
  const jit = jitDominates(model, limits)
  if (jit) findings.push(jit)
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.nodeId ?? -1) - (b.nodeId ?? -1))
}

function finding(
  code: FindingCode,
  node: PlanNode | null,
  severity: Severity,
  title: string,
  evidence: Finding['evidence'],
  action: string,
): Finding {
  return { code, severity, nodeId: node?.id ?? null, node: node ? `#${node.id} ${node.label}` : 'plan', title, evidence, action }
}

function severityByShare(node: PlanNode, limits: Thresholds): Severity {
  return (node.selfShare ?? 0) >= limits.criticalShare ? 'critical' : 'warning'
}

function tableName(node: PlanNode): string {
  const name = node.relation ?? '?'
  return node.schema && node.schema !== 'public' ? `${quoteIdent(node.schema)}.${quoteIdent(name)}` : quoteIdent(name)
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share > 0.99 && share < 1 ? 2 : share < 0.1 ? 1 : 0)}%`
}

function seqScanFilter(node: PlanNode, limits: Thresholds): Finding | null {
  if (node.nodeType !== 'Seq Scan' || !node.executed || node.rowsTotal === null) return null
  const removed = node.removed.filter
  const examined = node.rowsTotal + removed
  if (examined < limits.seqScanMinRows || removed / examined < limits.removedShare) return null
  const columns = conditionColumns(node.filter)
  const index =
    columns.length > 0
      ? `CREATE INDEX CONCURRENTLY ON ${tableName(node)} (${columns.map(quoteIdent).join(', ')})`
      : `an index on the filtered columns of ${tableName(node)}`
  return finding(
    'seq-scan-filter',
    node,
    severityByShare(node, limits),
    `Sequential scan of ${tableName(node)} reads ${count(examined)} rows and its filter throws away ${percent(removed / examined)} of them`,
    {
      rowsExamined: examined,
      rowsRemovedByFilter: removed,
      rowsReturned: node.rowsTotal,
      removedShare: round(removed / examined, 4),
      ...(node.filter ? { filter: node.filter } : {}),
      ...(node.selfTime !== null ? { selfTimeMs: round(node.selfTime, 3) } : {}),
    },
    `Index the filter: ${index}; the advisor (on a live statement) verifies it with HypoPG before you create it.`,
  )
}

function indexFilter(node: PlanNode, limits: Thresholds): Finding | null {
  if (!['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan'].includes(node.nodeType) || !node.executed || node.rowsTotal === null)
    return null
  const removed = node.removed.filter
  const fetched = node.rowsTotal + removed
  if (removed < limits.indexFilterMinRows || removed / fetched < limits.removedShare) return null
  const indexColumns = conditionColumns(node.indexCond ?? node.recheckCond)
  const filterColumns = conditionColumns(node.filter).filter((column) => !indexColumns.includes(column))
  const columns = [...indexColumns, ...filterColumns]
  return finding(
    'index-filter',
    node,
    severityByShare(node, limits),
    `${node.label} fetches ${count(fetched)} rows through the index, then its filter discards ${percent(removed / fetched)} of them`,
    {
      rowsFetched: fetched,
      rowsRemovedByFilter: removed,
      rowsReturned: node.rowsTotal,
      removedShare: round(removed / fetched, 4),
      ...(node.indexCond ? { indexCond: node.indexCond } : {}),
      ...(node.recheckCond ? { recheckCond: node.recheckCond } : {}),
      ...(node.filter ? { filter: node.filter } : {}),
    },
    columns.length > 0 && filterColumns.length > 0
      ? `Put the filter's columns into the index so rows are discarded before the heap is read: CREATE INDEX CONCURRENTLY ON ${tableName(node)} (${columns.map(quoteIdent).join(', ')}).`
      : `Add the filter's columns to the index ${node.index ?? ''} (or a partial index WHERE <filter>) so rows are discarded in the index.`.replace(
          '  ',
          ' ',
        ),
  )
}

function rowMisestimate(model: PlanModel, node: PlanNode, limits: Thresholds, context: FindingContext): Finding | null {
  const estimate = node.estimate
  if (!estimate || estimate.factor < limits.misestimateFactor || node.loops === null || node.actualRows === null) return null
  if (Math.max(node.actualRows, node.planRows) * node.loops < limits.misestimateMinRows) return null
  // Report where a misestimate starts, not every node it propagates to.
  const childMisestimated = node.children.some((id) => {
    const child = model.nodes[id]!.estimate
    return child !== null && child.direction === estimate.direction && child.factor >= limits.misestimateFactor
  })
  if (childMisestimated) return null
  // Materialize and Memoize count rows they hand out again; they inherit their estimate.
  if (node.nodeType === 'Materialize' || node.nodeType === 'Memoize') return null
  // Fewer rows than planned is expected where the consumer stops early: below a Limit, below a
  // Merge Join (it stops when one side runs out), on the inner side of a semi or anti join.
  if (estimate.direction === 'over' && stopsEarly(model, node)) return null
  const cause = likelyMisestimateCause(node, context)
  return finding(
    'row-misestimate',
    node,
    estimate.factor >= limits.misestimateCriticalFactor ? 'critical' : 'warning',
    `The planner expected ${count(node.planRows)} rows per loop but got ${count(node.actualRows)} (${estimate.direction === 'under' ? 'under' : 'over'}estimated ${formatFactor(estimate.factor)}): ${cause.cause}`,
    {
      estimatedRows: node.planRows,
      actualRows: node.actualRows,
      loops: node.loops,
      factor: round(estimate.factor, 1),
      direction: estimate.direction,
      likelyCause: cause.code,
      ...cause.evidence,
    },
    cause.action,
  )
}

function likelyMisestimateCause(
  node: PlanNode,
  context: FindingContext,
): { code: string; cause: string; action: string; evidence: Record<string, number | string> } {
  if (node.nodeType === 'Function Scan' || node.nodeType === 'Table Function Scan') {
    return {
      code: 'function-rows',
      cause: `the planner cannot see how many rows ${node.relation ?? 'the function'} returns (it assumes the function's ROWS setting, 1000 by default)`,
      action: node.relation
        ? `Declare a realistic estimate: ALTER FUNCTION ${node.relation} ROWS ${Math.max(1, Math.round((node.actualRows ?? 0) + node.removed.filter / Math.max(1, node.loops ?? 1)))}; or load the rows into a temporary table and ANALYZE it.`
        : 'Declare a realistic ROWS estimate on the function, or load its rows into a temporary table and ANALYZE it.',
      evidence: {},
    }
  }
  const isTable = node.properties['Relation Name'] !== undefined
  const table = isTable ? tableName(node) : null
  const stats =
    isTable && node.relation
      ? (context.tables?.[`${node.schema ?? 'public'}.${node.relation}`] ?? context.tables?.[node.relation])
      : undefined
  if (table && stats) {
    const neverAnalyzed = stats.lastAnalyze === null && stats.rowsAtLastAnalyze < 0
    const modifiedShare = stats.liveRows > 0 ? stats.modifiedSinceAnalyze / stats.liveRows : 0
    const drift =
      stats.rowsAtLastAnalyze > 0
        ? Math.abs(stats.liveRows - stats.rowsAtLastAnalyze) / Math.max(stats.liveRows, stats.rowsAtLastAnalyze)
        : 0
    if (neverAnalyzed || modifiedShare >= 0.1 || drift >= 0.2) {
      return {
        code: 'stale-statistics',
        cause: neverAnalyzed
          ? `${table} has never been analyzed`
          : `statistics of ${table} are stale (${count(stats.modifiedSinceAnalyze)} rows changed since the last ANALYZE, ${count(stats.liveRows)} live rows)`,
        action: `Run ANALYZE ${table}; and check that autovacuum analyzes it often enough (autovacuum_analyze_scale_factor).`,
        evidence: {
          liveRows: stats.liveRows,
          modifiedSinceAnalyze: stats.modifiedSinceAnalyze,
          rowsAtLastAnalyze: stats.rowsAtLastAnalyze,
          lastAnalyze: stats.lastAnalyze ?? 'never',
        },
      }
    }
  }
  const conditionText = [node.indexCond, node.recheckCond, node.filter].filter(Boolean).join(' AND ')
  const columns = conditionColumns(conditionText)
  if (table && columns.length >= 2 && / AND /i.test(conditionText)) {
    const statsName = quoteIdent(`${node.relation}_${columns.join('_')}_stats`.slice(0, 63))
    return {
      code: 'correlated-columns',
      cause: `the conditions on ${columns.join(', ')} are estimated as independent, but the columns are likely correlated`,
      action: `Create extended statistics and analyze: CREATE STATISTICS ${statsName} (dependencies, mcv) ON ${columns.map(quoteIdent).join(', ')} FROM ${table}; ANALYZE ${table};`,
      evidence: { columns: columns.join(', ') },
    }
  }
  if (table) {
    const column = columns[0]
    return {
      code: 'statistics',
      cause: `the statistics of ${table} do not describe the rows the condition matches`,
      action: column
        ? `Run ANALYZE ${table}; if the estimate stays off, raise the column's detail: ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(column)} SET STATISTICS 1000; ANALYZE ${table};`
        : `Run ANALYZE ${table}; if the estimate stays off, raise default_statistics_target for its columns.`,
      evidence: {},
    }
  }
  if (['Hash Join', 'Merge Join', 'Nested Loop'].includes(node.nodeType)) {
    return {
      code: 'join-selectivity',
      cause: 'the join condition matches a different share of rows than the statistics suggest (often correlated join columns)',
      action:
        'Check that both sides are analyzed; for multi-column join conditions, CREATE STATISTICS (dependencies, mcv) on the joined columns.',
      evidence: {
        ...(node.hashCond ? { hashCond: node.hashCond } : {}),
        ...(node.mergeCond ? { mergeCond: node.mergeCond } : {}),
        ...(node.joinFilter ? { joinFilter: node.joinFilter } : {}),
      },
    }
  }
  if (node.groupKey.length > 0) {
    return {
      code: 'distinct-values',
      cause: `the number of distinct values of ${node.groupKey.join(', ')} is misjudged`,
      action:
        'Create ndistinct statistics on the grouped columns (CREATE STATISTICS ... (ndistinct) ON ...), or set n_distinct on the column.',
      evidence: { groupKey: node.groupKey.join(', ') },
    }
  }
  return {
    code: 'unknown',
    cause: 'the estimate is inherited from an expression the planner cannot see into',
    action: 'Check the estimates of the nodes below it and analyze the tables involved.',
    evidence: {},
  }
}

function sortSpill(model: PlanModel, node: PlanNode, limits: Thresholds): Finding | null {
  if (!node.sort || node.sort.spaceType !== 'Disk') return null
  // The rows sorted are the rows its input produced (a Merge Join may stop reading the sort early).
  const input = node.children.map((id) => model.nodes[id]!).find((child) => child.parentRelationship === 'Outer')
  const rows = Math.max(input?.rowsTotal ?? 0, node.rowsTotal ?? node.planRows)
  // In memory a row costs a 24-byte SortTuple, the tuple's allocation header and power-of-two
  // rounding: measured on PostgreSQL 15, about 48 bytes plus twice its size on disk.
  const neededKb = node.sort.spaceUsedKb * 2 + (rows * 48) / 1024
  const workMem = niceWorkMem(neededKb)
  return finding(
    'sort-spill',
    node,
    severityByShare(node, limits),
    `Sort spilled ${formatKb(node.sort.spaceUsedKb)} to disk (${node.sort.method})`,
    {
      sortMethod: node.sort.method,
      diskKb: node.sort.spaceUsedKb,
      rows,
      suggestedWorkMem: workMem,
      ...(node.buffers ? { tempBlocksWritten: node.buffers.tempWritten } : {}),
      ...(model.settings.work_mem !== undefined ? { workMem: model.settings.work_mem } : {}),
    },
    `Give the sort memory: SET work_mem = '${workMem}' for this query or role (ALTER ROLE ... SET work_mem), or sort fewer rows (an index on ${node.sortKey.join(', ') || 'the sort key'} can return them in order).`,
  )
}

function hashSpill(model: PlanModel, node: PlanNode, limits: Thresholds, context: FindingContext): Finding | null {
  const multiplier = Number(
    model.settings.hash_mem_multiplier ?? (context.serverVersion !== undefined && context.serverVersion < 150000 ? 1 : 2),
  )
  if (node.hash && node.hash.batches > 1) {
    const neededKb = (node.hash.peakMemoryKb * node.hash.batches * 1.25) / multiplier
    const workMem = niceWorkMem(neededKb)
    return finding(
      'hash-spill',
      node,
      severityByShare(node, limits),
      `Hash table split into ${node.hash.batches} batches${node.hash.originalBatches !== node.hash.batches ? ` (planned ${node.hash.originalBatches})` : ''}: it did not fit in memory and spilled to disk`,
      {
        hashBatches: node.hash.batches,
        originalHashBatches: node.hash.originalBatches,
        peakMemoryKb: node.hash.peakMemoryKb,
        hashMemMultiplier: multiplier,
        suggestedWorkMem: workMem,
        ...(node.buffers ? { tempBlocksWritten: node.buffers.tempWritten } : {}),
      },
      `Let the hash table fit: SET work_mem = '${workMem}' (the limit is work_mem x hash_mem_multiplier = ${multiplier}), or hash the smaller side by fixing its row estimate.`,
    )
  }
  if (node.hashAgg && (node.hashAgg.batches > 1 || node.hashAgg.diskUsageKb > 0)) {
    // Spilled tuples are smaller than hash entries: measured on PostgreSQL 15 a group needs about
    // its width plus 150 bytes in memory, or three times its spilled size.
    const groups = node.rowsTotal ?? node.planRows
    const neededKb =
      Math.max(node.hashAgg.diskUsageKb * 3 + node.hashAgg.peakMemoryKb, (groups * (node.planWidth + 150)) / 1024) / multiplier
    const workMem = niceWorkMem(neededKb)
    return finding(
      'hash-spill',
      node,
      severityByShare(node, limits),
      `HashAggregate spilled ${formatKb(node.hashAgg.diskUsageKb)} to disk in ${node.hashAgg.batches} batches`,
      {
        hashAggBatches: node.hashAgg.batches,
        diskUsageKb: node.hashAgg.diskUsageKb,
        peakMemoryKb: node.hashAgg.peakMemoryKb,
        hashMemMultiplier: multiplier,
        suggestedWorkMem: workMem,
      },
      `Let the aggregate fit: SET work_mem = '${workMem}' (the limit is work_mem x hash_mem_multiplier = ${multiplier}).`,
    )
  }
  return null
}

function nestedLoop(model: PlanModel, node: PlanNode, limits: Thresholds): Finding | null {
  if (node.nodeType !== 'Nested Loop' || !node.executed) return null
  const innerId = node.children.find((id) => model.nodes[id]!.parentRelationship === 'Inner') ?? node.children[1]
  if (innerId === undefined) return null
  const inner = model.nodes[innerId]!
  const loops = inner.loops ?? 0
  if (loops < limits.nestedLoopMinLoops) return null
  const share = inner.inclusiveTime !== null && model.totalTime ? inner.inclusiveTime / model.totalTime : null
  if (share !== null && share < limits.nestedLoopMinShare) return null
  const innerScan = descendToScan(model, inner)
  const outer = model.nodes[node.children.find((id) => id !== innerId) ?? node.children[0]!]
  const columns = conditionColumns(innerScan?.filter ?? innerScan?.indexCond ?? node.joinFilter)
  const action =
    innerScan && innerScan.nodeType === 'Seq Scan'
      ? `The inner side scans ${tableName(innerScan)} sequentially on every loop: index the join column${columns.length > 0 ? `: CREATE INDEX CONCURRENTLY ON ${tableName(innerScan)} (${columns.map(quoteIdent).join(', ')})` : ''}.`
      : `A hash or merge join would read the inner side once: check the outer side's row estimate (${outer ? `${count(outer.planRows)} estimated, ${count(outer.actualRows ?? 0)} actual` : 'see above'}); to compare, run again with --set enable_nestloop=off.`
  return finding(
    'nested-loop-loops',
    node,
    share !== null && share >= limits.criticalShare ? 'critical' : 'warning',
    `Nested loop runs its inner side ${count(loops)} times${share !== null ? `, ${percent(share)} of the total time` : ''}`,
    {
      innerLoops: loops,
      innerNode: `#${inner.id} ${inner.label}`,
      ...(inner.inclusiveTime !== null ? { innerTimeMs: round(inner.inclusiveTime, 3) } : {}),
      ...(share !== null ? { innerShare: round(share, 4) } : {}),
      ...(outer ? { outerEstimatedRows: outer.planRows, outerActualRows: outer.rowsTotal ?? 0 } : {}),
    },
    action,
  )
}

function lossyBitmap(node: PlanNode): Finding | null {
  if (!node.bitmap || node.bitmap.lossyBlocks <= 0) return null
  const total = node.bitmap.exactBlocks + node.bitmap.lossyBlocks
  const lossyShare = node.bitmap.lossyBlocks / total
  // One bit per heap page in a lossy bitmap, about 60 bytes per exact page: enough memory to keep every page exact.
  const workMem = niceWorkMem((total * 64) / 1024)
  return finding(
    'lossy-bitmap',
    node,
    lossyShare >= 0.1 ? 'warning' : 'info',
    `Bitmap went lossy for ${count(node.bitmap.lossyBlocks)} of ${count(total)} heap blocks, so every row on them was rechecked`,
    {
      lossyHeapBlocks: node.bitmap.lossyBlocks,
      exactHeapBlocks: node.bitmap.exactBlocks,
      rowsRemovedByIndexRecheck: node.removed.indexRecheck,
      suggestedWorkMem: workMem,
      ...(node.recheckCond ? { recheckCond: node.recheckCond } : {}),
    },
    `The bitmap did not fit in work_mem: SET work_mem = '${workMem}' keeps it exact, or narrow the condition so fewer pages match.`,
  )
}

function heapFetches(node: PlanNode, limits: Thresholds): Finding | null {
  if (node.nodeType !== 'Index Only Scan' || node.heapFetches === null || !node.executed) return null
  const rows = Math.max(1, node.rowsTotal ?? 0)
  if (node.heapFetches < limits.heapFetchesMinCount || node.heapFetches / rows < limits.heapFetchesMinShare) return null
  return finding(
    'heap-fetches',
    node,
    'warning',
    `Index-only scan visited the table ${count(node.heapFetches)} times for ${count(rows)} rows: the visibility map is out of date`,
    { heapFetches: node.heapFetches, rowsReturned: node.rowsTotal ?? 0, fetchShare: round(node.heapFetches / rows, 4) },
    `Run VACUUM (ANALYZE) ${tableName(node)}; so the visibility map marks its pages all-visible, and let autovacuum keep up (lower autovacuum_vacuum_scale_factor / autovacuum_vacuum_insert_scale_factor for this table).`,
  )
}

function coldCache(model: PlanModel, limits: Thresholds): Finding | null {
  const root = model.nodes[0]
  const buffers = root?.buffers
  if (!root || !buffers) return null
  if (buffers.sharedRead < limits.coldCacheMinReadBlocks || buffers.sharedRead <= buffers.sharedHit) return null
  const readingNode = model.nodes
    .filter((node) => node.selfBuffers)
    .reduce<PlanNode | null>((best, node) => (!best || node.selfBuffers!.sharedRead > best.selfBuffers!.sharedRead ? node : best), null)
  const ioTime = root.io?.readTime ?? null
  const ioShare = ioTime !== null && model.totalTime ? ioTime / model.totalTime : null
  return finding(
    'cold-cache',
    readingNode,
    ioShare !== null && ioShare >= 0.5 ? 'warning' : 'info',
    `Reads dominate: ${count(buffers.sharedRead)} blocks (${formatBytes(buffers.sharedRead * BLOCK_SIZE)}) came from outside shared buffers, ${count(buffers.sharedHit)} were cache hits`,
    {
      sharedReadBlocks: buffers.sharedRead,
      sharedHitBlocks: buffers.sharedHit,
      readShare: round(buffers.sharedRead / (buffers.sharedRead + buffers.sharedHit), 4),
      ...(ioTime !== null ? { ioReadTimeMs: round(ioTime, 3) } : {}),
      ...(ioShare !== null ? { ioShare: round(ioShare, 4) } : {}),
    },
    ioTime === null
      ? `Run it again to see the warm-cache plan; if reads persist the working set exceeds shared_buffers: read fewer blocks (an index) or raise shared_buffers. SET track_io_timing = on to measure the I/O time.`
      : `${formatDuration(ioTime)} went to I/O. If reads persist on a second run, the working set exceeds shared_buffers: read fewer blocks (an index) or raise shared_buffers.`,
  )
}

function jitDominates(model: PlanModel, limits: Thresholds): Finding | null {
  const jit = model.jit
  const execution = model.executionTime
  if (!jit || !execution || jit.totalTime < limits.jitMinTime || jit.totalTime / execution < limits.jitMinShare) return null
  const above = model.settings.jit_above_cost
  return finding(
    'jit-dominates',
    null,
    'warning',
    `JIT compilation took ${formatDuration(jit.totalTime)} of a ${formatDuration(execution)} execution (${percent(jit.totalTime / execution)})`,
    {
      jitTimeMs: round(jit.totalTime, 3),
      executionTimeMs: round(execution, 3),
      jitShare: round(jit.totalTime / execution, 4),
      functions: jit.functions,
      totalCost: model.totalCost,
      ...(above !== undefined ? { jitAboveCost: above } : {}),
    },
    `The query is too short for JIT to pay off: raise jit_above_cost above its cost (${Math.ceil(model.totalCost)}${above !== undefined ? `; now ${above}` : ''}) or SET jit = off for this workload; also check jit_inline_above_cost and jit_optimize_above_cost.`,
  )
}

function descendToScan(model: PlanModel, node: PlanNode): PlanNode | null {
  let current: PlanNode | undefined = node
  while (current) {
    if (current.relation) return current
    current = current.children.length > 0 ? model.nodes[current.children[0]!] : undefined
  }
  return null
}

function stopsEarly(model: PlanModel, node: PlanNode): boolean {
  let child = node
  let parent = node.parentId === null ? undefined : model.nodes[node.parentId]
  while (parent) {
    if (parent.nodeType === 'Limit') return true
    if (parent.nodeType === 'Merge Join') return true
    if (/Semi|Anti/.test(parent.joinType ?? '') && child.parentRelationship === 'Inner') return true
    child = parent
    parent = parent.parentId === null ? undefined : model.nodes[parent.parentId]
  }
  return false
}

/** A work_mem a person would type: the next power of two in kB or MB, at least 64kB. */
export function niceWorkMem(kb: number): string {
  let value = 64
  while (value < kb) value *= 2
  return value >= 1024 ? `${value / 1024}MB` : `${value}kB`
}

function formatKb(kb: number): string {
  return formatBytes(kb * 1024)
}

function formatFactor(factor: number): string {
  return factor >= 100 ? `${count(factor)}x` : `${factor.toFixed(1)}x`
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
