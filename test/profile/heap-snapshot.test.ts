import { describe, expect, it } from 'vitest'
import { OpsError } from '../../src/core/index.js'
import { computeDominators, parseHeapSnapshot } from '../../src/profile/heap-snapshot.js'
import { analyzeLeak } from '../../src/profile/leak.js'

const NODE_TYPES = [
  'hidden',
  'array',
  'string',
  'object',
  'code',
  'closure',
  'regexp',
  'number',
  'native',
  'synthetic',
  'concatenated string',
  'sliced string',
  'symbol',
  'bigint',
  'object shape',
]
const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak']

interface SnapshotNode {
  type: string
  name: string
  id: number
  size: number
  edges?: Array<[type: string, name: string | number, to: number]>
}

/** A .heapsnapshot document (V8's format) from a list of nodes; edges point at node indexes. */
function heapSnapshot(nodes: SnapshotNode[]): string {
  const strings: string[] = []
  const indexes = new Map<string, number>()
  const string = (text: string) => {
    if (!indexes.has(text)) indexes.set(text, strings.push(text) - 1)
    return indexes.get(text)!
  }
  const flatNodes: number[] = []
  const flatEdges: number[] = []
  for (const node of nodes) {
    flatNodes.push(NODE_TYPES.indexOf(node.type), string(node.name), node.id, node.size, node.edges?.length ?? 0, 0, 0)
    for (const [type, name, to] of node.edges ?? []) {
      flatEdges.push(EDGE_TYPES.indexOf(type), type === 'element' || type === 'hidden' ? Number(name) : string(String(name)), to * 7)
    }
  }
  return JSON.stringify({
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
        node_types: [NODE_TYPES, 'string', 'number', 'number', 'number', 'number', 'number'],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [EDGE_TYPES, 'string_or_number', 'node'],
      },
      node_count: nodes.length,
      edge_count: flatEdges.length / 3,
    },
    nodes: flatNodes,
    edges: flatEdges,
    strings,
  })
}

/** A server whose request handler's closure context holds `leakyCache`, an Array of `entries` objects. */
function serverHeap(entries: number, holder: 'Array' | 'Map' = 'Array'): string {
  const nodes: SnapshotNode[] = [
    { type: 'synthetic', name: '', id: 1, size: 0, edges: [['element', 1, 1]] },
    { type: 'object', name: 'Server', id: 3, size: 200, edges: [['property', '_events', 2]] },
    { type: 'closure', name: 'handleRequest', id: 5, size: 56, edges: [['internal', 'context', 3]] },
    {
      type: 'object',
      name: 'system / Context',
      id: 7,
      size: 40,
      edges: [['context', holder === 'Array' ? 'leakyCache' : 'sessionCache', 4]],
    },
    { type: 'object', name: holder, id: 9, size: 32, edges: [] },
  ]
  const container = nodes[4]!
  let table = container
  if (holder === 'Map') {
    table = { type: 'array', name: '', id: 11, size: 16 + entries * 24, edges: [] }
    container.edges!.push(['internal', 'table', nodes.length])
    nodes.push(table)
  }
  for (let index = 0; index < entries; index++) {
    const at = nodes.length
    if (holder === 'Array') table.edges!.push(['element', index, at])
    else table.edges!.push(['internal', String(2 * index), at + 1], ['internal', String(2 * index + 1), at])
    nodes.push({ type: 'object', name: 'Object', id: 1001 + 2 * index, size: 120, edges: [] })
    if (holder === 'Map') nodes.push({ type: 'string', name: `key${index}`, id: 100_001 + 2 * index, size: 24 })
  }
  // a weak reference keeps nothing alive
  nodes[0]!.edges!.push(['weak', 'cache', 4])
  return heapSnapshot(nodes)
}

describe('heap snapshots', () => {
  it('computes dominators and retained sizes over strong edges only', () => {
    // root -> a, root -> b, a -> c, b -> c, c -> d; root -weak-> e, a -> e
    const graph = parseHeapSnapshot(
      heapSnapshot([
        {
          type: 'synthetic',
          name: '',
          id: 1,
          size: 0,
          edges: [
            ['element', 1, 1],
            ['element', 2, 2],
            ['weak', 'w', 5],
          ],
        },
        {
          type: 'object',
          name: 'A',
          id: 2,
          size: 10,
          edges: [
            ['property', 'c', 3],
            ['property', 'e', 5],
          ],
        },
        { type: 'object', name: 'B', id: 3, size: 20, edges: [['property', 'c', 3]] },
        { type: 'object', name: 'C', id: 4, size: 30, edges: [['property', 'd', 4]] },
        { type: 'object', name: 'D', id: 5, size: 40 },
        { type: 'object', name: 'E', id: 6, size: 50 },
      ]),
      'diamond.heapsnapshot',
    )
    const { idom, retained } = computeDominators(graph)
    expect([...idom]).toEqual([0, 0, 0, 0, 3, 1])
    expect([...retained]).toEqual([150, 60, 20, 70, 40, 50])
  })

  it('rejects a truncated snapshot saying so (exit 2)', () => {
    const text = serverHeap(3)
    try {
      parseHeapSnapshot(text.slice(0, 200), 'cut.heapsnapshot')
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(OpsError)
      expect((error as OpsError).exit).toBe(2)
      expect((error as OpsError).message).toContain('(the file is truncated)')
    }
  })

  it('names the growing Array by the variable that holds it, with its entries and retaining path', () => {
    const report = analyzeLeak(parseHeapSnapshot(serverHeap(10), 'before'), parseHeapSnapshot(serverHeap(5_000), 'after'), {
      minGrowthBytes: 100_000,
    })
    expect(report.suspects).toHaveLength(1)
    const [suspect] = report.suspects
    expect(suspect).toMatchObject({
      constructor: 'Array',
      holder: 'leakyCache',
      entriesBefore: 10,
      entriesAfter: 5_000,
      id: 9,
      isNew: false,
    })
    expect(suspect!.summary).toMatch(/^an Array in leakyCache grew by 4,990 entries \(1\.2 kB → 600\.0 kB retained\)$/)
    expect(suspect!.path.map((step) => `${step.edge} ${step.object}`)).toEqual([
      '[1] Server',
      '._events (closure)',
      '(internal context) system / Context',
      '.leakyCache Array',
    ])
    expect(report.constructors[0]).toMatchObject({ constructor: 'Object', countBefore: 10, countAfter: 5_000 })
  })

  it('reports a Map by its entries, not its hash table', () => {
    const report = analyzeLeak(parseHeapSnapshot(serverHeap(10, 'Map'), 'before'), parseHeapSnapshot(serverHeap(2_000, 'Map'), 'after'), {
      minGrowthBytes: 100_000,
    })
    expect(report.suspects[0]?.summary).toMatch(/^a Map in sessionCache grew by 1,990 entries/)
  })

  it('names no suspect when the growth stays under the noise floor', () => {
    const report = analyzeLeak(parseHeapSnapshot(serverHeap(10), 'before'), parseHeapSnapshot(serverHeap(40), 'after'), {
      minGrowthBytes: 100_000,
    })
    expect(report.suspects).toEqual([])
    expect(report.heapAfter).toBeGreaterThan(report.heapBefore)
  })
})
