import { describe, expect, it } from 'vitest'
import { injectLatency } from '../../reference-service/src/faults.js'

describe('the latency fault', () => {
  it('waits until the deadline, fractions of a millisecond included, polling a clock it is given', async () => {
    let clock = 100
    let reads = 0
    await injectLatency(1.25, () => {
      reads++
      return (clock += 0.1)
    })
    // the deadline was read at 100.1 + 1.25; each poll advanced the clock by 0.1
    expect(clock).toBeGreaterThanOrEqual(101.35)
    expect(clock).toBeLessThan(101.45)
    expect(reads).toBe(14)
  })

  it('waits at least as long as asked on the real clock, and lets other work run meanwhile', async () => {
    for (const ms of [0.3, 1.2, 3.7]) {
      let turns = 0
      let running = true
      const other = () => {
        turns++
        if (running) setImmediate(other)
      }
      setImmediate(other)
      const start = performance.now()
      await injectLatency(ms)
      const elapsed = performance.now() - start
      running = false
      expect(elapsed).toBeGreaterThanOrEqual(ms)
      expect(turns).toBeGreaterThan(0)
    }
  })
})
