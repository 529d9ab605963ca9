/**
 * Which backend of a pool takes a request. Pure and allocation-free per request: the router calls
 * these on its hot path.
 *
 * - By weight: smooth weighted round-robin (nginx's), which hits the configured split exactly over
 *   every run of 100 requests instead of drifting the way random draws do.
 * - Sticky by key (a user id header): weighted rendezvous hashing. Each backend scores the key
 *   with `weight / -ln(u)`, u a hash of key and backend; the highest wins. A key moves only when
 *   its backend leaves or another backend's weight grows past it, so raising a canary from 10% to
 *   25% moves only the users the canary gains, and users already on it stay.
 */

export interface SelectorMember {
  name: string
  weight: number
  /** Ready, healthy and weighted: may take new requests by weight or hash. */
  eligible: boolean
  /** Ready and healthy, whatever its weight: may take requests the override header names. */
  available: boolean
}

export class PoolSelector {
  readonly names: readonly string[]
  private readonly weights: Float64Array
  private readonly current: Float64Array
  private readonly seeds: Uint32Array
  private readonly eligible: Uint8Array
  private readonly available: Uint8Array
  private eligibleCount = 0

  constructor(members: readonly SelectorMember[]) {
    this.names = members.map((member) => member.name)
    this.weights = new Float64Array(members.length)
    this.current = new Float64Array(members.length)
    this.seeds = new Uint32Array(members.length)
    this.eligible = new Uint8Array(members.length)
    this.available = new Uint8Array(members.length)
    members.forEach((member, index) => (this.seeds[index] = hashString(member.name)))
    this.update(members)
  }

  /** New weights or states (same members, same order). Resets the round-robin position. */
  update(members: readonly SelectorMember[]): void {
    this.eligibleCount = 0
    members.forEach((member, index) => {
      this.weights[index] = member.weight
      this.current[index] = 0
      this.eligible[index] = member.eligible && member.weight > 0 ? 1 : 0
      this.available[index] = member.available ? 1 : 0
      this.eligibleCount += this.eligible[index]!
    })
  }

  get hasEligible(): boolean {
    return this.eligibleCount > 0
  }

  /** Smooth weighted round-robin over eligible members; -1 when none. */
  pickWeighted(exclude = -1): number {
    let total = 0
    let best = -1
    let bestCurrent = -Infinity
    for (let index = 0; index < this.weights.length; index++) {
      if (this.eligible[index] === 0 || index === exclude) continue
      const weight = this.weights[index]!
      const current = (this.current[index] = this.current[index]! + weight)
      total += weight
      if (current > bestCurrent) {
        bestCurrent = current
        best = index
      }
    }
    if (best !== -1) this.current[best] = this.current[best]! - total
    return best
  }

  /** Weighted rendezvous hashing of a key hash over eligible members; -1 when none. */
  pickHashed(keyHash: number, exclude = -1): number {
    let best = -1
    let bestScore = -Infinity
    for (let index = 0; index < this.weights.length; index++) {
      if (this.eligible[index] === 0 || index === exclude) continue
      // u in (0, 1): never 0 or 1, so the logarithm is finite and negative.
      const u = (mix32(keyHash ^ this.seeds[index]!) + 0.5) / 4294967296
      const score = this.weights[index]! / -Math.log(u)
      if (score > bestScore) {
        bestScore = score
        best = index
      }
    }
    return best
  }

  indexOf(name: string): number {
    return this.names.indexOf(name)
  }

  isEligible(index: number): boolean {
    return this.eligible[index] === 1
  }

  isAvailable(index: number): boolean {
    return this.available[index] === 1
  }
}

/** FNV-1a over UTF-16 code units: stable across processes and versions, fast on short keys. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** MurmurHash3's finalizer: spreads the bits of key ^ seed so that nearby inputs score independently. */
export function mix32(value: number): number {
  let hash = value >>> 0
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  hash ^= hash >>> 16
  return hash >>> 0
}
