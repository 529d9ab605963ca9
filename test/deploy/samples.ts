import { seededRandom } from '../../src/core/index.js'

/** Latencies (ms) like a service's: log-normal around `medianMs`, seeded so every run sees the same numbers. */
export function latencies(count: number, medianMs: number, seed: number, spread = 0.35): number[] {
  const random = seededRandom(seed)
  return Array.from({ length: count }, () => {
    // Box–Muller
    const u = 1 - random()
    const v = random()
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    return medianMs * Math.exp(spread * normal)
  })
}

/** Error counts of `requests` requests failing at `rate`, seeded. */
export function errorsOf(requests: number, rate: number, seed: number): { errors: number; requests: number } {
  const random = seededRandom(seed)
  let errors = 0
  for (let i = 0; i < requests; i++) if (random() < rate) errors++
  return { errors, requests }
}
