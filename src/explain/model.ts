/**
 * The plan model: one flat list of nodes with the numbers a reader needs (self time, share,
 * estimate factor, rows removed, buffers, I/O time), built from EXPLAIN's JSON shape. The text
 * parser produces the same shape, so one builder serves both. Pure: plain data in, plain data out.
 */
import type { JsonObject, JsonValue } from '../core/index.js'

export type PlanFormat = 'json' | 'text'

export interface Buffers {
  sharedHit: number
  sharedRead: number
  sharedDirtied: number
  sharedWritten: number
  localHit: number
  localRead: number
  localDirtied: number
  localWritten: number
  tempRead: number
  tempWritten: number
}

export interface IoTiming {
  /** ms spent reading shared/local blocks (track_io_timing). */
  readTime: number
  writeTime: number
  tempReadTime: number
  tempWriteTime: number
}

export interface RowEstimate {
  /** max(actual, planned) / min(actual, planned), each at least 1 row. */
  factor: number
  /** 'under': more rows than the planner expected; 'over': fewer. */
  direction: 'under' | 'over' | 'exact'
}

export interface PlanNode {
  /** Position in pre-order, 0 is the root. */
  id: number
  parentId: number | null
  depth: number
  children: number[]
  nodeType: string
  /** The node as PostgreSQL's text format names it: "Parallel Seq Scan on items i", "Hash Left Join". */
  label: string
  parentRelationship: string | null
  subplanName: string | null
  relation: string | null
  schema: string | null
  alias: string | null
  index: string | null
  joinType: string | null
  parallelAware: boolean
  startupCost: number
  totalCost: number
  planRows: number
  planWidth: number
  /** false when EXPLAIN ran without ANALYZE, or the node never executed. */
  executed: boolean
  actualRows: number | null
  loops: number | null
  /** actual rows x loops. */
  rowsTotal: number | null
  /** Processes this node ran in: workers launched (+ the leader) below a Gather; else 1. */
  processes: number
  /** Wall-clock ms including children: time per loop x loops, divided by the processes. */
  inclusiveTime: number | null
  /** Wall-clock ms of this node alone (inclusive minus its children's, at least 0). */
  selfTime: number | null
  /** selfTime / the plan's total time, 0..1. */
  selfShare: number | null
  estimate: RowEstimate | null
  /** Totals over all loops. */
  removed: { filter: number; indexRecheck: number; joinFilter: number }
  filter: string | null
  indexCond: string | null
  recheckCond: string | null
  joinFilter: string | null
  hashCond: string | null
  mergeCond: string | null
  sortKey: string[]
  groupKey: string[]
  /** Inclusive, as PostgreSQL reports them. */
  buffers: Buffers | null
  /** This node's own blocks (inclusive minus children). */
  selfBuffers: Buffers | null
  io: IoTiming | null
  sort: { method: string; spaceUsedKb: number; spaceType: string } | null
  hash: { buckets: number; originalBuckets: number; batches: number; originalBatches: number; peakMemoryKb: number } | null
  hashAgg: { batches: number; peakMemoryKb: number; diskUsageKb: number } | null
  bitmap: { exactBlocks: number; lossyBlocks: number } | null
  heapFetches: number | null
  workers: { planned: number; launched: number | null } | null
  /** Per-worker details, merged by "Worker Number" (also from duplicate "Workers" keys). */
  workerDetails: JsonObject[]
  /** Every property PostgreSQL reported for the node, except the children. */
  properties: JsonObject
}

export interface JitSummary {
  functions: number
  generationTime: number
  inliningTime: number
  optimizationTime: number
  emissionTime: number
  totalTime: number
  options: Record<string, boolean>
}

export interface PlanModel {
  format: PlanFormat
  analyzed: boolean
  planningTime: number | null
  executionTime: number | null
  /** Execution time, or the root's inclusive time when the plan has none. */
  totalTime: number | null
  totalCost: number
  nodes: PlanNode[]
  jit: JitSummary | null
  settings: Record<string, string>
  triggers: Array<{ name: string; relation: string | null; time: number | null; calls: number | null }>
  planningBuffers: Buffers | null
  /** Keys PostgreSQL repeated in one object (kept, not dropped). */
  duplicateKeys: Record<string, number>
  /** What the parser did not understand: text lines it skipped, by reason. */
  skipped: { lines: number; reasons: Record<string, number> }
  /** Top-level properties other than the plan tree. */
  properties: JsonObject
}

export interface BuildPlanOptions {
  format?: PlanFormat
  duplicateKeys?: Record<string, number>
  skipped?: { lines: number; reasons: Record<string, number> }
}

/** Finds the object that holds "Plan" in what EXPLAIN or a client printed. */
export function findPlanRoot(document: JsonValue): JsonObject | null {
  if (Array.isArray(document)) {
    for (const item of document) {
      const found = findPlanRoot(item)
      if (found) return found
    }
    return null
  }
  if (document === null || typeof document !== 'object') return null
  if (isObject(document.Plan)) return document
  // pg returns {"QUERY PLAN": [...]}; some tools wrap it once more.
  for (const key of ['QUERY PLAN', 'plan', 'explain']) {
    const inner = document[key]
    if (inner !== undefined) {
      const found = findPlanRoot(inner)
      if (found) return found
    }
  }
  return null
}

export function buildPlanModel(root: JsonObject, options: BuildPlanOptions = {}): PlanModel {
  const settings = stringRecord(root.Settings)
  const leaderParticipates = settings.parallel_leader_participation !== 'off'
  const nodes: PlanNode[] = []
  const plan = root.Plan
  if (!isObject(plan)) throw new Error('the document has no "Plan" object')

  const visit = (raw: JsonObject, parentId: number | null, depth: number, processes: number, underLimit: boolean) => {
    const node = readNode(raw, nodes.length, parentId, depth, processes)
    nodes.push(node)
    if (parentId !== null) nodes[parentId]!.children.push(node.id)
    const launched = node.workers?.launched ?? node.workers?.planned ?? 0
    const childProcesses =
      node.nodeType === 'Gather' || node.nodeType === 'Gather Merge' ? Math.max(1, launched + (leaderParticipates ? 1 : 0)) : processes
    const children = raw.Plans
    if (Array.isArray(children)) {
      for (const child of children)
        if (isObject(child)) visit(child, node.id, depth + 1, childProcesses, underLimit || node.nodeType === 'Limit')
    }
  }
  visit(plan, null, 0, 1, false)

  const planningTime = num(root, 'Planning Time') ?? null
  const executionTime = num(root, 'Execution Time') ?? num(root, 'Total Runtime') ?? null
  const analyzed = nodes.some((node) => node.loops !== null)
  const rootNode = nodes[0]!
  const totalTime = executionTime ?? rootNode.inclusiveTime

  for (const node of nodes) {
    if (node.inclusiveTime === null) continue
    // A CTE runs while its CTE Scans pull rows, so its time is inside theirs: the CTE's own nodes
    // keep it, the scans and the node the CTE hangs off do not count it again.
    const childTime = node.children.reduce((sum, id) => sum + (isCte(nodes[id]!) ? 0 : (nodes[id]!.inclusiveTime ?? 0)), 0)
    node.selfTime = Math.max(0, node.inclusiveTime - childTime)
  }
  for (const cte of nodes.filter(isCte)) {
    let remaining = cte.inclusiveTime ?? 0
    const name = cte.subplanName!.replace(/^CTE /, '')
    for (const scan of nodes) {
      if (scan.nodeType !== 'CTE Scan' || scan.relation !== name || scan.selfTime === null) continue
      const taken = Math.min(remaining, scan.selfTime)
      scan.selfTime -= taken
      remaining -= taken
    }
  }
  for (const node of nodes) {
    if (node.selfTime !== null) node.selfShare = totalTime ? Math.min(1, node.selfTime / totalTime) : null
  }
  // The text format leaves out "Buffers:" lines that would be all zeros.
  if (options.format === 'text' && nodes.some((node) => node.buffers)) {
    for (const node of nodes) node.buffers ??= emptyBuffers()
  }
  for (const node of nodes) {
    if (node.buffers) {
      const childBuffers = node.children.map((id) => nodes[id]!.buffers).filter((b): b is Buffers => b !== null)
      node.selfBuffers = subtractBuffers(node.buffers, childBuffers)
    }
  }

  const properties: JsonObject = {}
  for (const [key, value] of Object.entries(root)) if (key !== 'Plan') properties[key] = value

  return {
    format: options.format ?? 'json',
    analyzed,
    planningTime,
    executionTime,
    totalTime,
    totalCost: rootNode.totalCost,
    nodes,
    jit: readJit(root.JIT),
    settings,
    triggers: readTriggers(root.Triggers),
    planningBuffers: isObject(root.Planning) ? readBuffers(root.Planning) : null,
    duplicateKeys: options.duplicateKeys ?? {},
    skipped: options.skipped ?? { lines: 0, reasons: {} },
    properties,
  }
}

function readNode(raw: JsonObject, id: number, parentId: number | null, depth: number, processes: number): PlanNode {
  const loops = num(raw, 'Actual Loops') ?? null
  const actualRows = loops === null ? null : (num(raw, 'Actual Rows') ?? null)
  const executed = loops !== null && loops > 0
  const perLoopTime = num(raw, 'Actual Total Time')
  const inclusiveTime = executed && perLoopTime !== undefined ? (perLoopTime * loops) / processes : loops === 0 ? 0 : null
  const planRows = num(raw, 'Plan Rows') ?? 0
  const workersPlanned = num(raw, 'Workers Planned')
  const properties: JsonObject = {}
  for (const [key, value] of Object.entries(raw)) if (key !== 'Plans') properties[key] = value

  const node: PlanNode = {
    id,
    parentId,
    depth,
    children: [],
    nodeType: str(raw, 'Node Type') ?? 'Unknown',
    label: '',
    parentRelationship: str(raw, 'Parent Relationship') ?? null,
    subplanName: str(raw, 'Subplan Name') ?? null,
    relation: str(raw, 'Relation Name') ?? str(raw, 'CTE Name') ?? str(raw, 'Function Name') ?? null,
    schema: str(raw, 'Schema') ?? null,
    alias: str(raw, 'Alias') ?? null,
    index: str(raw, 'Index Name') ?? null,
    joinType: str(raw, 'Join Type') ?? null,
    parallelAware: raw['Parallel Aware'] === true,
    startupCost: num(raw, 'Startup Cost') ?? 0,
    totalCost: num(raw, 'Total Cost') ?? 0,
    planRows,
    planWidth: num(raw, 'Plan Width') ?? 0,
    executed,
    actualRows,
    loops,
    rowsTotal: actualRows !== null && loops !== null ? actualRows * loops : null,
    processes,
    inclusiveTime,
    selfTime: null,
    selfShare: null,
    estimate: executed && actualRows !== null && raw['Plan Rows'] !== undefined ? rowEstimate(actualRows, planRows) : null,
    removed: {
      filter: (num(raw, 'Rows Removed by Filter') ?? 0) * (loops ?? 1),
      indexRecheck: (num(raw, 'Rows Removed by Index Recheck') ?? 0) * (loops ?? 1),
      joinFilter: (num(raw, 'Rows Removed by Join Filter') ?? 0) * (loops ?? 1),
    },
    filter: str(raw, 'Filter') ?? null,
    indexCond: str(raw, 'Index Cond') ?? null,
    recheckCond: str(raw, 'Recheck Cond') ?? null,
    joinFilter: str(raw, 'Join Filter') ?? null,
    hashCond: str(raw, 'Hash Cond') ?? null,
    mergeCond: str(raw, 'Merge Cond') ?? null,
    sortKey: strings(raw['Sort Key']),
    groupKey: strings(raw['Group Key']),
    buffers: readBuffers(raw),
    selfBuffers: null,
    io: readIo(raw),
    sort:
      str(raw, 'Sort Method') !== undefined
        ? {
            method: str(raw, 'Sort Method')!,
            spaceUsedKb: num(raw, 'Sort Space Used') ?? 0,
            spaceType: str(raw, 'Sort Space Type') ?? 'Memory',
          }
        : null,
    hash:
      num(raw, 'Hash Batches') !== undefined
        ? {
            buckets: num(raw, 'Hash Buckets') ?? 0,
            originalBuckets: num(raw, 'Original Hash Buckets') ?? num(raw, 'Hash Buckets') ?? 0,
            batches: num(raw, 'Hash Batches')!,
            originalBatches: num(raw, 'Original Hash Batches') ?? num(raw, 'Hash Batches')!,
            peakMemoryKb: num(raw, 'Peak Memory Usage') ?? 0,
          }
        : null,
    hashAgg:
      num(raw, 'HashAgg Batches') !== undefined
        ? {
            batches: num(raw, 'HashAgg Batches')!,
            peakMemoryKb: num(raw, 'Peak Memory Usage') ?? 0,
            diskUsageKb: num(raw, 'Disk Usage') ?? 0,
          }
        : null,
    bitmap:
      num(raw, 'Exact Heap Blocks') !== undefined || num(raw, 'Lossy Heap Blocks') !== undefined
        ? { exactBlocks: num(raw, 'Exact Heap Blocks') ?? 0, lossyBlocks: num(raw, 'Lossy Heap Blocks') ?? 0 }
        : null,
    heapFetches: num(raw, 'Heap Fetches') ?? null,
    workers: workersPlanned !== undefined ? { planned: workersPlanned, launched: num(raw, 'Workers Launched') ?? null } : null,
    workerDetails: mergeWorkers(raw.Workers),
    properties,
  }
  node.label = describeNode(node, raw)
  return node
}

function isCte(node: PlanNode): boolean {
  return node.subplanName?.startsWith('CTE ') ?? false
}

export function rowEstimate(actualRows: number, planRows: number): RowEstimate {
  const actual = Math.max(1, actualRows)
  const planned = Math.max(1, planRows)
  if (Math.abs(actual - planned) < 1e-9) return { factor: 1, direction: 'exact' }
  return actual > planned ? { factor: actual / planned, direction: 'under' } : { factor: planned / actual, direction: 'over' }
}

const AGGREGATE_NAMES: Record<string, string> = {
  Plain: 'Aggregate',
  Sorted: 'GroupAggregate',
  Hashed: 'HashAggregate',
  Mixed: 'MixedAggregate',
}
const JOIN_NODES = new Set(['Nested Loop', 'Hash Join', 'Merge Join'])

/** The node's name the way PostgreSQL's text format writes it. */
function describeNode(node: PlanNode, raw: JsonObject): string {
  let name = node.nodeType
  const strategy = str(raw, 'Strategy')
  if (name === 'Aggregate' && strategy) name = AGGREGATE_NAMES[strategy] ?? name
  if (name === 'SetOp' && strategy === 'Hashed') name = 'HashSetOp'
  const partial = str(raw, 'Partial Mode')
  if (partial && partial !== 'Simple') name = `${partial} ${name}`
  if (name === 'ModifyTable' && str(raw, 'Operation')) name = str(raw, 'Operation')!
  if (JOIN_NODES.has(node.nodeType) && node.joinType && node.joinType !== 'Inner') {
    name =
      node.nodeType === 'Nested Loop' ? `Nested Loop ${node.joinType} Join` : `${node.nodeType.replace(/ Join$/, '')} ${node.joinType} Join`
  }
  if (str(raw, 'Scan Direction') === 'Backward') name += ' Backward'
  if (node.parallelAware) name = `Parallel ${name}`
  if (node.index) name += node.relation || node.nodeType !== 'Bitmap Index Scan' ? ` using ${node.index}` : ` on ${node.index}`
  if (node.relation) {
    name += ` on ${node.schema && node.schema !== 'public' ? `${node.schema}.` : ''}${node.relation}`
    if (node.alias && node.alias !== node.relation) name += ` ${node.alias}`
  } else if (node.alias && /Scan$/.test(node.nodeType)) {
    name += ` on ${node.alias}`
  }
  return name
}

function readBuffers(raw: JsonObject): Buffers | null {
  const keys: Record<keyof Buffers, string> = {
    sharedHit: 'Shared Hit Blocks',
    sharedRead: 'Shared Read Blocks',
    sharedDirtied: 'Shared Dirtied Blocks',
    sharedWritten: 'Shared Written Blocks',
    localHit: 'Local Hit Blocks',
    localRead: 'Local Read Blocks',
    localDirtied: 'Local Dirtied Blocks',
    localWritten: 'Local Written Blocks',
    tempRead: 'Temp Read Blocks',
    tempWritten: 'Temp Written Blocks',
  }
  if (!Object.values(keys).some((key) => raw[key] !== undefined)) return null
  const buffers = emptyBuffers()
  for (const [field, key] of Object.entries(keys) as Array<[keyof Buffers, string]>) buffers[field] = num(raw, key) ?? 0
  return buffers
}

export function emptyBuffers(): Buffers {
  return {
    sharedHit: 0,
    sharedRead: 0,
    sharedDirtied: 0,
    sharedWritten: 0,
    localHit: 0,
    localRead: 0,
    localDirtied: 0,
    localWritten: 0,
    tempRead: 0,
    tempWritten: 0,
  }
}

function subtractBuffers(total: Buffers, children: Buffers[]): Buffers {
  const out = { ...total }
  for (const key of Object.keys(out) as Array<keyof Buffers>) {
    out[key] = Math.max(0, total[key] - children.reduce((sum, child) => sum + child[key], 0))
  }
  return out
}

/** I/O timing keys changed names across versions: "I/O Read Time" (13-16), "Shared I/O Read Time" and "Local ..." (17+). */
function readIo(raw: JsonObject): IoTiming | null {
  const keys = [
    'I/O Read Time',
    'I/O Write Time',
    'Shared I/O Read Time',
    'Shared I/O Write Time',
    'Local I/O Read Time',
    'Local I/O Write Time',
    'Temp I/O Read Time',
    'Temp I/O Write Time',
  ]
  if (!keys.some((key) => raw[key] !== undefined)) return null
  return {
    readTime: (num(raw, 'I/O Read Time') ?? 0) + (num(raw, 'Shared I/O Read Time') ?? 0) + (num(raw, 'Local I/O Read Time') ?? 0),
    writeTime: (num(raw, 'I/O Write Time') ?? 0) + (num(raw, 'Shared I/O Write Time') ?? 0) + (num(raw, 'Local I/O Write Time') ?? 0),
    tempReadTime: num(raw, 'Temp I/O Read Time') ?? 0,
    tempWriteTime: num(raw, 'Temp I/O Write Time') ?? 0,
  }
}

function readJit(raw: JsonValue | undefined): JitSummary | null {
  if (!isObject(raw)) return null
  const timing = isObject(raw.Timing) ? raw.Timing : {}
  // PostgreSQL 17 nests {"Total": ..., "Deform": ...} under "Generation".
  const time = (key: string) => {
    const value = timing[key]
    if (isObject(value)) return num(value, 'Total') ?? 0
    return num(timing, key) ?? 0
  }
  const options: Record<string, boolean> = {}
  if (isObject(raw.Options)) for (const [key, value] of Object.entries(raw.Options)) options[key] = value === true || value === 'true'
  return {
    functions: num(raw, 'Functions') ?? 0,
    generationTime: time('Generation'),
    inliningTime: time('Inlining'),
    optimizationTime: time('Optimization'),
    emissionTime: time('Emission'),
    totalTime: time('Total'),
    options,
  }
}

function readTriggers(raw: JsonValue | undefined): PlanModel['triggers'] {
  if (!Array.isArray(raw)) return []
  return raw.filter(isObject).map((trigger) => ({
    name: str(trigger, 'Trigger Name') ?? str(trigger, 'Constraint Name') ?? 'trigger',
    relation: str(trigger, 'Relation') ?? null,
    time: num(trigger, 'Time') ?? null,
    calls: num(trigger, 'Calls') ?? null,
  }))
}

/** Entries of "Workers" (possibly repeated and concatenated by the parser) merged by worker number. */
function mergeWorkers(raw: JsonValue | undefined): JsonObject[] {
  if (!Array.isArray(raw)) return []
  const byNumber = new Map<string, JsonObject>()
  const flat = raw.flatMap((item) => (Array.isArray(item) ? item : [item])).filter(isObject)
  for (const worker of flat) {
    const key = String(worker['Worker Number'] ?? byNumber.size)
    byNumber.set(key, { ...(byNumber.get(key) ?? {}), ...worker })
  }
  return [...byNumber.values()]
}

function stringRecord(raw: JsonValue | undefined): Record<string, string> {
  if (!isObject(raw)) return {}
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]))
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
}

function num(raw: JsonObject, key: string): number | undefined {
  const value = raw[key]
  if (typeof value === 'number') return value
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  // A key PostgreSQL repeated: the first value counts.
  if (Array.isArray(value) && typeof value[0] === 'number') return value[0]
  return undefined
}

function str(raw: JsonObject, key: string): string | undefined {
  const value = raw[key]
  if (typeof value === 'string') return value
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0]
  return undefined
}

function strings(value: JsonValue | undefined): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string')
  if (typeof value === 'string') return [value]
  return []
}
