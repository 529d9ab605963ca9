/**
 * V8 sampling heap profiles (`.heapprofile`, as DevTools and `HeapProfiler.stopSampling` give
 * them): a call tree whose nodes carry the bytes allocated there. As stacks weighted by bytes they
 * get the same summaries and flame graphs as CPU profiles. Pure.
 */
import { badInput } from '../core/index.js'
import { describeJsonError, frameLabel, type CallFrame } from './cpuprofile.js'
import { stackProfile, type StackProfile, type WeightedStack } from './stacks.js'

export interface HeapProfileNode {
  callFrame: CallFrame
  /** Bytes allocated by this function itself (sampled, scaled to an estimate). */
  selfSize: number
  id: number
  children: HeapProfileNode[]
}

export interface HeapProfile {
  head: HeapProfileNode
  samples?: Array<{ size: number; nodeId: number; ordinal: number }>
}

export function parseHeapProfile(text: string, source: string): HeapProfile {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw badInput(`Cannot read heap profile ${source}: ${describeJsonError(text, error as Error)}`)
  }
  const head = (value as { head?: unknown } | null)?.head
  const check = (node: unknown, path: string): void => {
    const candidate = node as Partial<HeapProfileNode> | null
    if (typeof candidate !== 'object' || candidate === null)
      throw badInput(`${source} is not a V8 heap profile: ${path} should be an object`)
    if (
      typeof candidate.selfSize !== 'number' ||
      typeof candidate.callFrame?.functionName !== 'string' ||
      !Array.isArray(candidate.children)
    ) {
      throw badInput(`${source} is not a V8 heap profile: ${path} needs callFrame, selfSize and children`)
    }
  }
  check(head, 'head')
  // iterative, as allocation trees can be deep
  const pending: Array<[unknown, string]> = [[head, 'head']]
  while (pending.length) {
    const [node, path] = pending.pop()!
    check(node, path)
    ;(node as HeapProfileNode).children.forEach((child, index) => pending.push([child, `${path}.children[${index}]`]))
  }
  return value as HeapProfile
}

export function heapProfileStacks(profile: HeapProfile, options: { baseDir?: string } = {}): StackProfile {
  const stacks: WeightedStack[] = []
  const pending: Array<{ node: HeapProfileNode; frames: string[] }> = [{ node: profile.head, frames: [] }]
  while (pending.length) {
    const { node, frames } = pending.pop()!
    const isRoot = node === profile.head && node.callFrame.functionName === '(root)'
    const here = isRoot ? frames : [...frames, frameLabel(node.callFrame, options.baseDir)]
    if (node.selfSize > 0) stacks.push({ frames: here.length ? here : ['(root)'], weight: node.selfSize })
    for (const child of node.children) pending.push({ node: child, frames: here })
  }
  return stackProfile('bytes', stacks)
}
