/**
 * What grew between two heap snapshots of one process: by constructor (count and own size), and
 * the objects that hold the growth, each with its entries, retained size and retaining path, so a
 * leak reads "an Array in leakyCache grew by 48,000 entries". Objects are matched by V8's ids,
 * which stay the same across snapshots of one process. Pure.
 */
import {
  computeDominators,
  constructorOf,
  entryCount,
  nodeNameOf,
  nodeTypeOf,
  retainingPath,
  shortestPathParents,
  type Dominators,
  type HeapGraph,
} from './heap-snapshot.js'

export interface ConstructorGrowth {
  constructor: string
  countBefore: number
  countAfter: number
  /** Own (shallow) sizes, bytes. */
  selfBefore: number
  selfAfter: number
}

export interface RetainerStep {
  /** `.leakyCache`, `[3]`, `(internal table)`. */
  edge: string
  /** Constructor of the object reached through the edge. */
  object: string
}

export interface LeakSuspect {
  constructor: string
  /** The name it is reachable by (the last property or variable on its retaining path). */
  holder?: string
  /** V8's object id, for finding it in DevTools. */
  id: number
  /** New since the first snapshot (not in it). */
  isNew: boolean
  entriesBefore: number
  entriesAfter: number
  retainedBefore: number
  retainedAfter: number
  path: RetainerStep[]
  summary: string
}

export interface LeakReport {
  /** Bytes reachable from the roots. */
  heapBefore: number
  heapAfter: number
  /** Growth below this is noise and names no suspect. */
  minGrowthBytes: number
  suspects: LeakSuspect[]
  /** Largest growth of own size first; only constructors that grew. */
  constructors: ConstructorGrowth[]
}

export interface LeakOptions {
  /** Bytes of retained growth an object needs to be a suspect (default 1 MB). */
  minGrowthBytes?: number
  top?: number
}

export const DEFAULT_MIN_GROWTH_BYTES = 1_000_000

export function analyzeLeak(before: HeapGraph, after: HeapGraph, options: LeakOptions = {}): LeakReport {
  const minGrowthBytes = options.minGrowthBytes ?? DEFAULT_MIN_GROWTH_BYTES
  const top = options.top ?? 10
  const beforeDominators = computeDominators(before)
  const afterDominators = computeDominators(after)
  const beforeIndex = new Map<number, number>()
  for (let node = 0; node < before.nodeCount; node++) if (beforeDominators.idom[node]! >= 0) beforeIndex.set(before.nodeId[node]!, node)

  const growth = (node: number): number => {
    const previous = beforeIndex.get(after.nodeId[node]!)
    return afterDominators.retained[node]! - (previous === undefined ? 0 : beforeDominators.retained[previous]!)
  }

  const roots = leakRoots(after, afterDominators, growth, minGrowthBytes)
  const parents = shortestPathParents(after)
  const owners = new Map<number, number>()
  for (const node of roots) {
    const owner = ownerOf(after, afterDominators, node)
    const growthOfOwner = growth(owner)
    if (growthOfOwner >= minGrowthBytes && !owners.has(owner)) owners.set(owner, growthOfOwner)
  }
  const suspects = [...owners.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([node]) => describeSuspect(before, after, beforeDominators, afterDominators, beforeIndex, parents, node))

  return {
    heapBefore: beforeDominators.retained[0] ?? 0,
    heapAfter: afterDominators.retained[0] ?? 0,
    minGrowthBytes,
    suspects,
    constructors: constructorGrowth(before, beforeDominators, after, afterDominators).slice(0, top),
  }
}

/**
 * Walks down the dominator tree from the root along the children that grew by at least the
 * floor. A node whose growth is mostly spread over children that each grew less (an Array of
 * 48,000 small objects) is where the growth accumulates: a leak root.
 */
function leakRoots(graph: HeapGraph, dominators: Dominators, growth: (node: number) => number, floor: number): number[] {
  const roots: number[] = []
  const pending = [0]
  while (pending.length) {
    const node = pending.pop()!
    const own = growth(node)
    if (own < floor) continue
    const big: number[] = []
    let bigSum = 0
    for (let index = dominators.childStart[node]!; index < dominators.childStart[node + 1]!; index++) {
      const child = dominators.childList[index]!
      const childGrowth = growth(child)
      if (childGrowth >= floor) {
        big.push(child)
        bigSum += childGrowth
      }
    }
    if (node !== 0 && bigSum < own / 2) roots.push(node)
    pending.push(...big)
  }
  return roots
}

function isInternal(graph: HeapGraph, node: number): boolean {
  const type = nodeTypeOf(graph, node)
  const name = nodeNameOf(graph, node)
  if (type === 'array' || type === 'hidden' || type === 'code' || type === 'synthetic' || type === 'object shape') return true
  return name.startsWith('system /') || (name.startsWith('(') && type !== 'closure')
}

/** A backing store (an Array's elements, a Map's hash table) is reported as the object it belongs to. */
function ownerOf(graph: HeapGraph, dominators: Dominators, node: number): number {
  let current = node
  for (let hops = 0; hops < 3 && isInternal(graph, current) && current !== 0; hops++) {
    const up = dominators.idom[current]!
    if (up <= 0) break
    current = up
  }
  return current
}

function describeSuspect(
  before: HeapGraph,
  after: HeapGraph,
  beforeDominators: Dominators,
  afterDominators: Dominators,
  beforeIndex: Map<number, number>,
  parents: ReturnType<typeof shortestPathParents>,
  node: number,
): LeakSuspect {
  const previous = beforeIndex.get(after.nodeId[node]!)
  const steps = retainingPath(after, parents, node)
  const path = steps.map((step) => ({ edge: edgeText(step.edgeType, step.edge), object: constructorOf(after, step.node) }))
  const last = steps[steps.length - 1]
  let holder: string | undefined
  if (last && (last.edgeType === 'property' || last.edgeType === 'context' || last.edgeType === 'shortcut') && !/^\d+$/.test(last.edge))
    holder = last.edge
  else if (last && last.edgeType === 'element' && steps.length > 1) {
    const owner = steps[steps.length - 2]!
    holder = `${owner.edgeType === 'property' || owner.edgeType === 'context' ? owner.edge : constructorOf(after, owner.node)}[${last.edge}]`
  }
  const suspect: Omit<LeakSuspect, 'summary'> = {
    constructor: constructorOf(after, node),
    ...(holder ? { holder } : {}),
    id: after.nodeId[node]!,
    isNew: previous === undefined,
    entriesBefore: previous === undefined ? 0 : entryCount(before, previous),
    entriesAfter: entryCount(after, node),
    retainedBefore: previous === undefined ? 0 : beforeDominators.retained[previous]!,
    retainedAfter: afterDominators.retained[node]!,
    path,
  }
  return { ...suspect, summary: summarizeSuspect(suspect) }
}

function edgeText(type: string, name: string): string {
  if (type === 'element') return `[${name}]`
  if (type === 'property' || type === 'context' || type === 'shortcut') return `.${name}`
  return `(${type} ${name})`
}

export function summarizeSuspect(suspect: Omit<LeakSuspect, 'summary'>): string {
  const name = suspect.constructor
  const article = /^[aeiou]/i.test(name) ? 'an' : 'a'
  const where = suspect.holder ? ` in ${suspect.holder}` : ''
  const entries = suspect.entriesAfter - suspect.entriesBefore
  const grew = entries > 0 ? `grew by ${entries.toLocaleString('en-US')} ${entries === 1 ? 'entry' : 'entries'}` : 'grew'
  const bytes = `${formatMegabytes(suspect.retainedBefore)} → ${formatMegabytes(suspect.retainedAfter)} retained`
  return `${article} ${name}${where} ${suspect.isNew ? `appeared and ${grew.replace('grew by', 'holds')}` : grew} (${bytes})`
}

function formatMegabytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}

function constructorGrowth(
  before: HeapGraph,
  beforeDominators: Dominators,
  after: HeapGraph,
  afterDominators: Dominators,
): ConstructorGrowth[] {
  const table = new Map<string, ConstructorGrowth>()
  const tally = (graph: HeapGraph, dominators: Dominators, side: 'Before' | 'After') => {
    for (let node = 0; node < graph.nodeCount; node++) {
      if (dominators.idom[node]! < 0) continue
      const name = constructorOf(graph, node)
      let row = table.get(name)
      if (!row) {
        row = { constructor: name, countBefore: 0, countAfter: 0, selfBefore: 0, selfAfter: 0 }
        table.set(name, row)
      }
      row[`count${side}`]++
      row[`self${side}`] += graph.selfSize[node]!
    }
  }
  tally(before, beforeDominators, 'Before')
  tally(after, afterDominators, 'After')
  return [...table.values()]
    .filter((row) => row.selfAfter > row.selfBefore)
    .sort((a, b) => b.selfAfter - b.selfBefore - (a.selfAfter - a.selfBefore) || (a.constructor < b.constructor ? -1 : 1))
}
