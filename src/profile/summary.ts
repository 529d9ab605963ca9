/**
 * Where the time (or the bytes) went: the top functions by self and by total weight with their
 * file:line and share, and the shares of garbage collection, idle and native code. Pure.
 */
import { describeFrame, frameKind, isFunctionFrame, parseFrame, type FrameKind } from './frames.js'
import type { StackProfile, StackUnit } from './stacks.js'

export interface FunctionStat {
  /** The frame label: `name (file:line:column)`. */
  frame: string
  name: string
  /** `file:line`, empty for native code. */
  location: string
  /** Weight with this function as the leaf (samples or bytes). */
  self: number
  /** Weight with this function anywhere on the stack (recursion counted once). */
  total: number
  /** self / all weight of the profile, 0..1. */
  selfShare: number
  totalShare: number
}

export interface TimeShares {
  /** (garbage collector) */
  gc: number
  /** (idle): the process was waiting for I/O or timers. */
  idle: number
  /** (program) and functions without JavaScript source (V8 builtins, C++ bindings). */
  native: number
  /** Functions with JavaScript source, Node's own included. */
  js: number
}

export interface ProfileSummary {
  unit: StackUnit
  /** All samples (or bytes) of the profile. */
  total: number
  durationMs?: number
  topSelf: FunctionStat[]
  topTotal: FunctionStat[]
  /**
   * The top by self time in the application's own code (0x's "app" view): Node's core, native code
   * and node_modules left out. An endpoint that spends half its time in a driver's row parser still
   * shows which of its own functions to look at.
   */
  topSelfApp: FunctionStat[]
  shares: TimeShares
}

/** JavaScript with a source file that is neither Node's own (node:...) nor a dependency (node_modules). */
export function isAppFrame(label: string): boolean {
  const file = parseFrame(label).file
  return file !== undefined && !file.startsWith('node:') && !/(^|[\\/])node_modules[\\/]/.test(file)
}

export function functionStats(profile: StackProfile): FunctionStat[] {
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  for (const stack of profile.stacks) {
    const leaf = stack.frames[stack.frames.length - 1]!
    self.set(leaf, (self.get(leaf) ?? 0) + stack.weight)
    for (const frame of new Set(stack.frames)) total.set(frame, (total.get(frame) ?? 0) + stack.weight)
  }
  const all = profile.total || 1
  return [...total.keys()].filter(isFunctionFrame).map((frame) => {
    const { name, location } = describeFrame(frame)
    const selfWeight = self.get(frame) ?? 0
    const totalWeight = total.get(frame) ?? 0
    return { frame, name, location, self: selfWeight, total: totalWeight, selfShare: selfWeight / all, totalShare: totalWeight / all }
  })
}

export function timeShares(profile: StackProfile): TimeShares {
  const byKind: Record<FrameKind, number> = { js: 0, native: 0, gc: 0, idle: 0, program: 0, root: 0 }
  for (const stack of profile.stacks) byKind[frameKind(stack.frames[stack.frames.length - 1]!)] += stack.weight
  const all = profile.total || 1
  return { gc: byKind.gc / all, idle: byKind.idle / all, native: (byKind.native + byKind.program + byKind.root) / all, js: byKind.js / all }
}

export function summarizeProfile(profile: StackProfile, top = 10): ProfileSummary {
  const stats = functionStats(profile)
  const byName = (a: FunctionStat, b: FunctionStat) => (a.frame < b.frame ? -1 : a.frame > b.frame ? 1 : 0)
  const topSelf = stats
    .filter((stat) => stat.self > 0)
    .sort((a, b) => b.self - a.self || byName(a, b))
    .slice(0, top)
  const topTotal = [...stats].sort((a, b) => b.total - a.total || byName(a, b)).slice(0, top)
  const topSelfApp = stats
    .filter((stat) => stat.self > 0 && isAppFrame(stat.frame))
    .sort((a, b) => b.self - a.self || byName(a, b))
    .slice(0, top)
  // copies: a function in two lists must not be one shared object (JSON output would see a cycle)
  const copy = (list: FunctionStat[]) => list.map((stat) => ({ ...stat }))
  return {
    unit: profile.unit,
    total: profile.total,
    ...(profile.durationMs !== undefined ? { durationMs: profile.durationMs } : {}),
    topSelf: copy(topSelf),
    topTotal: copy(topTotal),
    topSelfApp: copy(topSelfApp),
    shares: timeShares(profile),
  }
}
