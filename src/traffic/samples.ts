/**
 * Raw latency samples per backend per window, bounded in memory, for the canary judge's rank
 * test. Time is cut into epochs (1 s by default); each epoch keeps exact outcome counts and a
 * reservoir (Vitter's algorithm R) of at most `perEpoch` latencies, and a ring keeps the last
 * `retainEpochs` epochs. Why not one ring buffer of the last N latencies: under load it holds only
 * the last few seconds, so a 5-minute canary step would be judged on its tail end; a reservoir per
 * epoch keeps a uniform sample of each second whatever the rate, and `collect` merges epochs at a
 * common sampling rate so the window's sample is uniform over the whole window.
 *
 * Memory is fixed once the ring is full: retainEpochs × perEpoch × 8 bytes per backend
 * (1800 × 256 × 8 = 3.7 MB for 30 minutes at the defaults). Pure: time and randomness come in.
 */
import { CONNECTION_OUTCOME } from './control.js'

export interface SampleStoreOptions {
  epochMs: number
  perEpoch: number
  retainEpochs: number
  random?: () => number
}

export const DEFAULT_SAMPLE_OPTIONS = { epochMs: 1000, perEpoch: 256, retainEpochs: 1800 } as const

class Epoch {
  /** Epoch number (start = number × epochMs); -1 = unused. */
  number = -1
  /** Requests seen (answered or not), and answered ones (which the reservoir samples). */
  requests = 0
  answered = 0
  readonly outcomes = new Float64Array(5)
  kept = 0
  readonly latency: Float32Array

  constructor(capacity: number) {
    this.latency = new Float32Array(capacity)
  }

  reset(number: number): void {
    this.number = number
    this.requests = 0
    this.answered = 0
    this.outcomes.fill(0)
    this.kept = 0
  }
}

export interface CollectedWindow {
  /** Epoch-aligned bounds actually covered, ms. */
  fromMs: number
  toMs: number
  /** False when epochs of the asked window are no longer kept. */
  complete: boolean
  requests: number
  answered: number
  /** By outcome index: 2xx, 3xx, 4xx, 5xx, connection. */
  outcomes: number[]
  latencyMs: number[]
  sampled: boolean
}

export class SampleStore {
  private readonly ring: Array<Epoch | undefined>
  private readonly random: () => number
  private current: Epoch | undefined
  /** The first epoch number ever recorded: windows reaching before it are complete (nothing was there). */
  private firstEpoch = -1

  constructor(private readonly options: SampleStoreOptions) {
    this.ring = new Array<Epoch | undefined>(options.retainEpochs)
    this.random = options.random ?? Math.random
  }

  /** One finished request: latency in ms (ignored for connection failures), outcome index 0–4. */
  record(nowMs: number, latencyMs: number, outcome: number): void {
    const epoch = this.epochAt(nowMs)
    epoch.requests++
    epoch.outcomes[outcome]!++
    if (outcome === CONNECTION_OUTCOME) return
    const seen = ++epoch.answered
    if (epoch.kept < epoch.latency.length) {
      epoch.latency[epoch.kept++] = latencyMs
      return
    }
    const slot = Math.floor(this.random() * seen)
    if (slot < epoch.latency.length) epoch.latency[slot] = latencyMs
  }

  private epochAt(nowMs: number): Epoch {
    const number = Math.floor(nowMs / this.options.epochMs)
    const current = this.current
    if (current !== undefined && current.number === number) return current
    const slot = number % this.ring.length
    let epoch = this.ring[slot]
    if (epoch === undefined) epoch = this.ring[slot] = new Epoch(this.options.perEpoch)
    // A clock that stepped back lands in an older epoch: keep adding to the current one instead.
    if (current !== undefined && number < current.number) return current
    if (epoch.number !== number) epoch.reset(number)
    if (this.firstEpoch === -1) this.firstEpoch = number
    this.current = epoch
    return epoch
  }

  /**
   * Everything recorded in epochs that start at or after `fromMs` and at or before `toMs` (the
   * window snaps to whole epochs, except the current one, still open). At most `maxSamples`
   * latencies, uniformly over the window.
   */
  collect(fromMs: number, toMs: number, maxSamples = 10_000, random: () => number = this.random): CollectedWindow {
    const epochMs = this.options.epochMs
    const firstWanted = Math.ceil(fromMs / epochMs)
    const lastWanted = Math.floor(toMs / epochMs)
    const oldestKept = this.current === undefined ? firstWanted : Math.max(0, this.current.number - this.ring.length + 1)
    const epochs: Epoch[] = []
    for (const epoch of this.ring) {
      if (epoch && epoch.number >= firstWanted && epoch.number <= lastWanted && epoch.number >= oldestKept) epochs.push(epoch)
    }
    epochs.sort((a, b) => a.number - b.number)
    const outcomes = [0, 0, 0, 0, 0]
    let requests = 0
    let answered = 0
    // The common rate: the lowest share any epoch kept of its answered requests.
    let rate = 1
    for (const epoch of epochs) {
      requests += epoch.requests
      answered += epoch.answered
      for (let index = 0; index < 5; index++) outcomes[index]! += epoch.outcomes[index]!
      if (epoch.answered > 0) rate = Math.min(rate, epoch.kept / epoch.answered)
    }
    if (answered * rate > maxSamples) rate = maxSamples / answered
    const latencyMs: number[] = []
    let sampled = false
    for (const epoch of epochs) {
      // Stochastic rounding: each epoch's expected share is exact, so quiet epochs are not rounded away.
      const take = Math.min(epoch.kept, Math.floor(epoch.answered * rate + random()))
      if (take < epoch.answered) sampled = true
      if (take === epoch.kept) {
        for (let index = 0; index < take; index++) latencyMs.push(roundMicros(epoch.latency[index]!))
        continue
      }
      // A uniform subset of the reservoir (partial Fisher–Yates over a copy).
      const pool = Array.from(epoch.latency.subarray(0, epoch.kept))
      for (let index = 0; index < take; index++) {
        const pick = index + Math.floor(random() * (pool.length - index))
        const chosen = pool[pick]!
        pool[pick] = pool[index]!
        latencyMs.push(roundMicros(chosen))
      }
    }
    // Rounding may overshoot the cap by a few: drop that many, uniformly.
    while (latencyMs.length > maxSamples) {
      const drop = Math.floor(random() * latencyMs.length)
      latencyMs[drop] = latencyMs[latencyMs.length - 1]!
      latencyMs.pop()
    }
    // Incomplete only when epochs of the window were recorded and have since left the ring.
    const evicted = this.firstEpoch !== -1 && this.firstEpoch < oldestKept && firstWanted < oldestKept
    return {
      fromMs: firstWanted * epochMs,
      toMs: Math.min(toMs, (lastWanted + 1) * epochMs),
      complete: !evicted,
      requests,
      answered,
      outcomes,
      latencyMs,
      sampled,
    }
  }
}

/** Float32 storage shows as 0.617268979549408: back to the microsecond it was measured to. */
function roundMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
