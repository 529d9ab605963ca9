/**
 * Durations for percentiles in bounded memory: exact for the first 64 values, then
 * logarithmic buckets of 2% width from 1µs to over an hour (p95 within 2%).
 */
const EXACT = 64
const MIN_MS = 0.001
const RATIO = 1.02
const LOG_RATIO = Math.log(RATIO)
const BUCKETS = Math.ceil(Math.log(4_000_000 / MIN_MS) / LOG_RATIO) + 2

export class DurationHistogram {
  private exact: number[] | undefined = []
  private buckets: Uint32Array | undefined
  count = 0

  add(ms: number): void {
    this.count++
    if (this.exact) {
      this.exact.push(ms)
      if (this.exact.length <= EXACT) return
      this.buckets = new Uint32Array(BUCKETS)
      for (const value of this.exact) this.buckets[bucketOf(value)]!++
      this.exact = undefined
      return
    }
    this.buckets![bucketOf(ms)]!++
  }

  /** The q-quantile (0..1), or undefined without values. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined
    if (this.exact) {
      const sorted = [...this.exact].sort((a, b) => a - b)
      return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
    }
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets![i]!
      if (seen >= rank) return i === 0 ? MIN_MS : MIN_MS * RATIO ** (i - 0.5)
    }
    return undefined
  }
}

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / MIN_MS) / LOG_RATIO))
}
