import { describe, expect, it } from 'vitest'
import { burnCpu, createSlowdown, injectLatency } from '../../reference-service/src/faults.js'

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

  it("burns a share of each request's own time, leaving out the time other requests' burns held the loop", () => {
    let clock = 0
    const slowdown = createSlowdown(0.2, () => (clock += 0.001))
    const first = slowdown.mark()
    const second = slowdown.mark()
    const start = clock
    slowdown.finish(10, first) // burns 2 ms
    expect(clock - start).toBeCloseTo(2, 2)
    // the second request took 13 ms, 2 of them held by the first one's burn: 20% of 11
    const before = clock
    slowdown.finish(13, second)
    expect(clock - before).toBeCloseTo(2.2, 2)
    // a request that started after both burns counts its whole time
    const third = slowdown.mark()
    const after = clock
    slowdown.finish(5, third)
    expect(clock - after).toBeCloseTo(1, 2)
  })
})
