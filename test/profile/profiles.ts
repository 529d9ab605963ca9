import type { CallFrame, CpuProfile } from '../../src/profile/cpuprofile.js'

/** A call frame; line and column 0-based as V8 writes them. */
export function frame(functionName: string, path: string, lineNumber: number, columnNumber = 0): CallFrame {
  return { functionName, url: path ? `file://${path}` : '', lineNumber, columnNumber, scriptId: '1' }
}

/**
 * A .cpuprofile from a tree: each node names its children and how many samples it has itself.
 * Samples are one millisecond apart from startTime 1,000,000 µs, in node order.
 */
export function cpuProfile(tree: Record<string, { frame?: CallFrame; children?: string[]; self?: number }>): CpuProfile {
  const names = Object.keys(tree)
  const id = (name: string) => names.indexOf(name) + 1
  const nodes = names.map((name) => {
    const node = tree[name]!
    return {
      id: id(name),
      callFrame: node.frame ?? { functionName: name, url: '', lineNumber: -1, columnNumber: -1, scriptId: '0' },
      hitCount: node.self ?? 0,
      children: (node.children ?? []).map(id),
    }
  })
  const samples = names.flatMap((name) => Array.from({ length: tree[name]!.self ?? 0 }, () => id(name)))
  return { nodes, startTime: 1_000_000, endTime: 1_000_000 + samples.length * 1000, samples, timeDeltas: samples.map(() => 1000) }
}
