import { describe, expect, it } from 'vitest'
import { burnCpu, injectLatency } from '../../reference-service/src/faults.js'

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

describe('the slowdown fault', () => {
  it('keeps the CPU busy until the deadline of the clock it is given', () => {
    let clock = 0
    let reads = 0
    burnCpu(2.5, () => {
      reads++
      return (clock += 0.5)
    })
    // the deadline was read at 0.5 + 2.5; then 1.0 … 3.0
    expect(clock).toBe(3)
    expect(reads).toBe(6)
  })

  it('burns at least as long as asked on the real clock, and no other work runs meanwhile', async () => {
    let turns = 0
    const other = setImmediate(() => turns++)
    const start = performance.now()
    burnCpu(3)
    expect(performance.now() - start).toBeGreaterThanOrEqual(3)
    expect(turns).toBe(0)
    clearImmediate(other)
  })
})
