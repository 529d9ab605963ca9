/**
 * Two profiles compared function by function. Weights are normalised to shares of each profile's
 * on-CPU samples (idle samples are left out: a slower build that keeps the CPU busier would
 * otherwise seem to grow everywhere), so runs of different lengths compare. Pure.
 */
import { describeFrame, frameKind, functionKey, isFunctionFrame } from './frames.js'
import { withoutLeaves, type StackProfile } from './stacks.js'

export interface FunctionShare {
  self: number
  total: number
  /** Of the profile's on-CPU weight, 0..1. */
  selfShare: number
  totalShare: number
}

export interface FunctionChange {
  /** Name and file (see functionKey). */
  key: string
  name: string
  /** `file:line` in the after profile (or the before one if it is gone). */
  location: string
  before: FunctionShare
  after: FunctionShare
  /** after.selfShare - before.selfShare: +0.05 is 5 points more of the profile. */
  selfDelta: number
  totalDelta: number
}

export interface ProfileDiff {
  before: { total: number; idle: number }
  after: { total: number; idle: number }
  /** Largest change of self share first (grown or shrunk). */
  changes: FunctionChange[]
}

const IDLE = new Set(['(idle)'])
const ZERO: FunctionShare = { self: 0, total: 0, selfShare: 0, totalShare: 0 }

export function diffProfiles(before: StackProfile, after: StackProfile): ProfileDiff {
  const left = onCpu(before)
  const right = onCpu(after)
  const a = sharesByFunction(left)
  const b = sharesByFunction(right)
  const changes: FunctionChange[] = []
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const was = a.get(key)
    const now = b.get(key)
    const { name, location } = describeFrame((now ?? was)!.frame)
    const beforeShare = was?.share ?? ZERO
    const afterShare = now?.share ?? ZERO
    changes.push({
      key,
      name,
      location,
      before: beforeShare,
      after: afterShare,
      selfDelta: afterShare.selfShare - beforeShare.selfShare,
      totalDelta: afterShare.totalShare - beforeShare.totalShare,
    })
  }
  // ties: growth before shrinkage (what a gate cares about), then the larger change of total share
  changes.sort(
    (x, y) =>
      Math.abs(y.selfDelta) - Math.abs(x.selfDelta) ||
      y.selfDelta - x.selfDelta ||
      Math.abs(y.totalDelta) - Math.abs(x.totalDelta) ||
      (x.key < y.key ? -1 : 1),
  )
  return {
    before: { total: left.total, idle: before.total - left.total },
    after: { total: right.total, idle: after.total - right.total },
    changes,
  }
}

/** Functions whose self share grew by more than `maxGrowth` (a fraction: 0.05 is 5 points), largest first. */
export function growthOver(diff: ProfileDiff, maxGrowth: number): FunctionChange[] {
  return diff.changes.filter((change) => change.selfDelta > maxGrowth + 1e-12).sort((x, y) => y.selfDelta - x.selfDelta)
}

export function onCpu(profile: StackProfile): StackProfile {
  return withoutLeaves(profile, IDLE)
}

function sharesByFunction(profile: StackProfile): Map<string, { frame: string; share: FunctionShare }> {
  const result = new Map<string, { frame: string; share: FunctionShare }>()
  const all = profile.total || 1
  const entry = (frame: string) => {
    const key = functionKey(frame)
    let found = result.get(key)
    if (!found) {
      found = { frame, share: { ...ZERO } }
      result.set(key, found)
    }
    return found
  }
  for (const stack of profile.stacks) {
    const leaf = stack.frames[stack.frames.length - 1]!
    if (isFunctionFrame(leaf) || frameKind(leaf) === 'gc') entry(leaf).share.self += stack.weight
    const seen = new Set<string>()
    for (const frame of stack.frames) {
      if (!(isFunctionFrame(frame) || frameKind(frame) === 'gc')) continue
      const key = functionKey(frame)
      if (seen.has(key)) continue
      seen.add(key)
      entry(frame).share.total += stack.weight
    }
  }
  for (const { share } of result.values()) {
    share.selfShare = share.self / all
    share.totalShare = share.total / all
  }
  return result
}
