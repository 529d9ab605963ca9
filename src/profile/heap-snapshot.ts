/**
 * V8 heap snapshots (`.heapsnapshot`, as v8.writeHeapSnapshot and DevTools write them) as a
 * compact graph, with what leak hunting needs: dominators, retained sizes, entry counts and the
 * shortest retaining path from the roots. Pure: text in, numbers out.
 */
import { badInput } from '../core/index.js'
import { describeJsonError } from './cpuprofile.js'

export interface HeapGraph {
  nodeCount: number
  /** Per node: index into nodeTypes, index into strings, V8's object id (stable across snapshots of one process), own size. */
  nodeType: Uint8Array
  nodeName: Uint32Array
  nodeId: Float64Array
  selfSize: Float64Array
  /** Edges of node i are firstEdge[i] .. firstEdge[i + 1] - 1. */
  firstEdge: Uint32Array
  edgeType: Uint8Array
  /** A string index, or the element index for element and hidden edges. */
  edgeName: Uint32Array
  edgeTo: Uint32Array
  strings: string[]
  nodeTypes: string[]
  edgeTypes: string[]
}

interface RawSnapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: unknown[]; edge_fields: string[]; edge_types: unknown[] }
    node_count?: number
    edge_count?: number
  }
  nodes: number[]
  edges: number[]
  strings: string[]
}

export function parseHeapSnapshot(text: string, source: string): HeapGraph {
  let raw: RawSnapshot
  try {
    raw = JSON.parse(text) as RawSnapshot
  } catch (error) {
    throw badInput(`Cannot read heap snapshot ${source}: ${describeJsonError(text, error as Error)}`)
  }
  const meta = raw?.snapshot?.meta
  if (!meta || !Array.isArray(raw.nodes) || !Array.isArray(raw.edges) || !Array.isArray(raw.strings)) {
    throw badInput(`${source} is not a V8 heap snapshot (no snapshot.meta, nodes, edges and strings)`)
  }
  const nodeFields = meta.node_fields
  const edgeFields = meta.edge_fields
  const field = (fields: string[], name: string) => {
    const index = fields.indexOf(name)
    if (index < 0) throw badInput(`${source} is not a V8 heap snapshot this tool understands: no "${name}" field`)
    return index
  }
  const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((name) =>
    field(nodeFields, name),
  ) as [number, number, number, number, number]
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((name) => field(edgeFields, name)) as [
    number,
    number,
    number,
  ]
  const nodeTypes = meta.node_types[typeAt] as string[]
  const edgeTypes = meta.edge_types[edgeTypeAt] as string[]
  const nodeStride = nodeFields.length
  const edgeStride = edgeFields.length
  const nodeCount = Math.floor(raw.nodes.length / nodeStride)
  const edgeCount = Math.floor(raw.edges.length / edgeStride)

  const graph: HeapGraph = {
    nodeCount,
    nodeType: new Uint8Array(nodeCount),
    nodeName: new Uint32Array(nodeCount),
    nodeId: new Float64Array(nodeCount),
    selfSize: new Float64Array(nodeCount),
    firstEdge: new Uint32Array(nodeCount + 1),
    edgeType: new Uint8Array(edgeCount),
    edgeName: new Uint32Array(edgeCount),
    edgeTo: new Uint32Array(edgeCount),
    strings: raw.strings,
    nodeTypes,
    edgeTypes,
  }
  let edge = 0
  for (let node = 0; node < nodeCount; node++) {
    const base = node * nodeStride
    graph.nodeType[node] = raw.nodes[base + typeAt]!
    graph.nodeName[node] = raw.nodes[base + nameAt]!
    graph.nodeId[node] = raw.nodes[base + idAt]!
    graph.selfSize[node] = raw.nodes[base + sizeAt]!
    graph.firstEdge[node] = edge
    edge += raw.nodes[base + edgeCountAt]!
  }
  graph.firstEdge[nodeCount] = edge
  if (edge !== edgeCount) throw badInput(`${source} is damaged: the nodes declare ${edge} edges but the file has ${edgeCount}`)
  for (let index = 0; index < edgeCount; index++) {
    const base = index * edgeStride
    graph.edgeType[index] = raw.edges[base + edgeTypeAt]!
    graph.edgeName[index] = raw.edges[base + edgeNameAt]!
    const to = raw.edges[base + edgeToAt]! / nodeStride
    if (!Number.isInteger(to) || to >= nodeCount) throw badInput(`${source} is damaged: edge ${index} points outside the nodes`)
    graph.edgeTo[index] = to
  }
  return graph
}

export function nodeTypeOf(graph: HeapGraph, node: number): string {
  return graph.nodeTypes[graph.nodeType[node]!] ?? 'unknown'
}

export function nodeNameOf(graph: HeapGraph, node: number): string {
  return graph.strings[graph.nodeName[node]!] ?? ''
}

export function edgeTypeOf(graph: HeapGraph, edge: number): string {
  return graph.edgeTypes[graph.edgeType[edge]!] ?? 'unknown'
}

export function edgeNameOf(graph: HeapGraph, edge: number): string {
  const type = edgeTypeOf(graph, edge)
  const name = graph.edgeName[edge]!
  return type === 'element' || type === 'hidden' ? String(name) : (graph.strings[name] ?? String(name))
}

/** What DevTools shows as the constructor of a node: the name for objects, `(type)` for the rest. */
export function constructorOf(graph: HeapGraph, node: number): string {
  const type = nodeTypeOf(graph, node)
  const name = nodeNameOf(graph, node)
  if (type === 'object' || type === 'native') return name || '(object)'
  if (type === 'closure') return '(closure)'
  if (type === 'array') return name ? `(array) ${name}` : '(array)'
  if (type === 'hidden' || type === 'code' || type === 'synthetic') return name || `(${type})`
  if (type === 'concatenated string' || type === 'sliced string') return '(string)'
  return `(${type})`
}

/** Weak edges do not keep anything alive: they count neither for dominators nor for paths. */
function strongEdges(graph: HeapGraph): (graph: HeapGraph, edge: number) => boolean {
  const weak = graph.edgeTypes.indexOf('weak')
  return (_graph, edge) => graph.edgeType[edge] !== weak
}

export interface Dominators {
  /** Immediate dominator of each node (the root: itself); -1 when unreachable. */
  idom: Int32Array
  /** Own size plus everything only reachable through the node. */
  retained: Float64Array
  /** Children in the dominator tree: node i's are childList[childStart[i] .. childStart[i + 1] - 1]. */
  childStart: Uint32Array
  childList: Uint32Array
}

/** Cooper, Harvey and Kennedy's iterative dominator algorithm over strong edges from node 0 (the root). */
export function computeDominators(graph: HeapGraph): Dominators {
  const isStrong = strongEdges(graph)
  const n = graph.nodeCount
  const postorder = new Int32Array(n).fill(-1)
  const order = new Uint32Array(n)
  let count = 0
  // iterative DFS: a stack of (node, next edge)
  const visited = new Uint8Array(n)
  const stackNode = new Uint32Array(n)
  const stackEdge = new Uint32Array(n)
  let top = 0
  if (n > 0) {
    stackNode[0] = 0
    stackEdge[0] = graph.firstEdge[0]!
    visited[0] = 1
    top = 1
  }
  while (top > 0) {
    const node = stackNode[top - 1]!
    const edge = stackEdge[top - 1]!
    if (edge < graph.firstEdge[node + 1]!) {
      stackEdge[top - 1] = edge + 1
      if (!isStrong(graph, edge)) continue
      const to = graph.edgeTo[edge]!
      if (visited[to]) continue
      visited[to] = 1
      stackNode[top] = to
      stackEdge[top] = graph.firstEdge[to]!
      top++
    } else {
      postorder[node] = count
      order[count++] = node
      top--
    }
  }

  // predecessors among reachable nodes, by postorder number
  const predCount = new Uint32Array(count + 1)
  for (let from = 0; from < n; from++) {
    if (postorder[from]! < 0) continue
    for (let edge = graph.firstEdge[from]!; edge < graph.firstEdge[from + 1]!; edge++) {
      if (isStrong(graph, edge) && postorder[graph.edgeTo[edge]!]! >= 0) predCount[postorder[graph.edgeTo[edge]!]! + 1]!++
    }
  }
  for (let index = 0; index < count; index++) predCount[index + 1]! += predCount[index]!
  const preds = new Uint32Array(predCount[count]!)
  const fill = predCount.slice(0, count)
  for (let from = 0; from < n; from++) {
    const fromPo = postorder[from]!
    if (fromPo < 0) continue
    for (let edge = graph.firstEdge[from]!; edge < graph.firstEdge[from + 1]!; edge++) {
      const toPo = postorder[graph.edgeTo[edge]!]!
      if (isStrong(graph, edge) && toPo >= 0) preds[fill[toPo]!++] = fromPo
    }
  }

  const rootPo = count - 1
  const doms = new Int32Array(count).fill(-1)
  doms[rootPo] = rootPo
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a < b) a = doms[a]!
      while (b < a) b = doms[b]!
    }
    return a
  }
  let changed = true
  while (changed) {
    changed = false
    for (let po = rootPo - 1; po >= 0; po--) {
      let candidate = -1
      for (let index = predCount[po]!; index < predCount[po + 1]!; index++) {
        const pred = preds[index]!
        if (doms[pred] === -1) continue
        candidate = candidate === -1 ? pred : intersect(pred, candidate)
      }
      if (candidate !== -1 && doms[po] !== candidate) {
        doms[po] = candidate
        changed = true
      }
    }
  }

  const idom = new Int32Array(n).fill(-1)
  const retained = new Float64Array(n)
  for (let po = 0; po < count; po++) {
    const node = order[po]!
    idom[node] = order[doms[po]!]!
    retained[node] = graph.selfSize[node]!
  }
  // children finish before their dominator in postorder, so one pass upwards sums the tree
  for (let po = 0; po < rootPo; po++) {
    const node = order[po]!
    const up = idom[node]!
    retained[up] = retained[up]! + retained[node]!
  }
  const childStart = new Uint32Array(n + 1)
  for (let node = 0; node < n; node++) if (idom[node]! >= 0 && node !== 0) childStart[idom[node]! + 1]!++
  for (let node = 0; node < n; node++) childStart[node + 1]! += childStart[node]!
  const childList = new Uint32Array(childStart[n]!)
  const cursor = childStart.slice(0, n)
  for (let node = 0; node < n; node++) if (idom[node]! >= 0 && node !== 0) childList[cursor[idom[node]!]!++] = node
  return { idom, retained, childStart, childList }
}

export interface PathStep {
  /** How the previous node holds this one: `.name`, `[3]`, `context name`... */
  edge: string
  edgeType: string
  node: number
}

/** Parents on a shortest strong path from the root (breadth-first), for retaining paths. */
export function shortestPathParents(graph: HeapGraph): { parentEdge: Int32Array; parentNode: Int32Array } {
  const isStrong = strongEdges(graph)
  const parentEdge = new Int32Array(graph.nodeCount).fill(-1)
  const parentNode = new Int32Array(graph.nodeCount).fill(-1)
  if (graph.nodeCount === 0) return { parentEdge, parentNode }
  const queue = new Uint32Array(graph.nodeCount)
  let head = 0
  let tail = 0
  queue[tail++] = 0
  parentNode[0] = 0
  while (head < tail) {
    const node = queue[head++]!
    for (let edge = graph.firstEdge[node]!; edge < graph.firstEdge[node + 1]!; edge++) {
      if (!isStrong(graph, edge)) continue
      const to = graph.edgeTo[edge]!
      if (parentNode[to] !== -1) continue
      parentNode[to] = node
      parentEdge[to] = edge
      queue[tail++] = to
    }
  }
  return { parentEdge, parentNode }
}

export function retainingPath(graph: HeapGraph, parents: { parentEdge: Int32Array; parentNode: Int32Array }, node: number): PathStep[] {
  const steps: PathStep[] = []
  let current = node
  while (current !== 0 && parents.parentNode[current]! >= 0 && steps.length < 10_000) {
    const edge = parents.parentEdge[current]!
    steps.push({ edge: edgeNameOf(graph, edge), edgeType: edgeTypeOf(graph, edge), node: current })
    current = parents.parentNode[current]!
  }
  return steps.reverse()
}

/**
 * How many entries a container holds: elements of an Array, entries of a Map or Set (through
 * its hash table), properties of a plain object used as a dictionary, slots of a backing store.
 */
export function entryCount(graph: HeapGraph, node: number): number {
  const type = nodeTypeOf(graph, node)
  const name = nodeNameOf(graph, node)
  if (type === 'object' && (name === 'Map' || name === 'Set')) {
    for (let edge = graph.firstEdge[node]!; edge < graph.firstEdge[node + 1]!; edge++) {
      if (edgeNameOf(graph, edge) !== 'table') continue
      const slots = indexedEdges(graph, graph.edgeTo[edge]!)
      return name === 'Map' ? Math.floor(slots / 2) : slots
    }
    return 0
  }
  if (type === 'array' || type === 'hidden') return indexedEdges(graph, node)
  let count = 0
  for (let edge = graph.firstEdge[node]!; edge < graph.firstEdge[node + 1]!; edge++) {
    const edgeType = edgeTypeOf(graph, edge)
    if (edgeType === 'element' || (edgeType === 'property' && edgeNameOf(graph, edge) !== '__proto__')) count++
  }
  return count
}

function indexedEdges(graph: HeapGraph, node: number): number {
  let count = 0
  for (let edge = graph.firstEdge[node]!; edge < graph.firstEdge[node + 1]!; edge++) {
    const edgeType = edgeTypeOf(graph, edge)
    if (edgeType === 'element' || ((edgeType === 'internal' || edgeType === 'hidden') && /^\d+$/.test(edgeNameOf(graph, edge)))) count++
  }
  return count
}
