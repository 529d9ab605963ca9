/**
 * The common shape of every profile here: stacks of frame labels (outermost first) with a weight
 * (samples for CPU profiles, bytes for allocation profiles). CPU profiles, heap profiles and folded
 * files all become this, and summaries, diffs and flame graphs work on it alone. Pure.
 */

export type StackUnit = 'samples' | 'bytes'

export interface WeightedStack {
  /** Outermost frame first. */
  frames: string[]
  weight: number
}

export interface StackProfile {
  unit: StackUnit
  stacks: WeightedStack[]
  /** Sum of the weights. */
  total: number
  /** Wall time the profile covers, when known (CPU profiles). */
  durationMs?: number
  /** Sampling interval, when known. */
  intervalUs?: number
}

export function stackProfile(
  unit: StackUnit,
  stacks: WeightedStack[],
  extra: Pick<StackProfile, 'durationMs' | 'intervalUs'> = {},
): StackProfile {
  const merged = mergeStacks(stacks)
  return { unit, stacks: merged, total: merged.reduce((sum, stack) => sum + stack.weight, 0), ...extra }
}

/** Identical stacks as one, zero weights dropped, in a stable (sorted) order. */
export function mergeStacks(stacks: readonly WeightedStack[]): WeightedStack[] {
  const byKey = new Map<string, WeightedStack>()
  for (const stack of stacks) {
    if (!(stack.weight > 0) || stack.frames.length === 0) continue
    const key = stack.frames.join(';')
    const existing = byKey.get(key)
    if (existing) existing.weight += stack.weight
    else byKey.set(key, { frames: [...stack.frames], weight: stack.weight })
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, stack]) => stack)
}

/** The stacks without those whose leaf is one of `leaves` (e.g. `(idle)` for on-CPU shares). */
export function withoutLeaves(profile: StackProfile, leaves: ReadonlySet<string>): StackProfile {
  const stacks = profile.stacks.filter((stack) => !leaves.has(stack.frames[stack.frames.length - 1]!))
  return { ...profile, stacks, total: stacks.reduce((sum, stack) => sum + stack.weight, 0) }
}
