import { describe, expect, it } from 'vitest'
import { doCpuWork, injectLatency } from '../../reference-service/src/faults.js'

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

describe('the CPU work fault', () => {
  it('does the same computation every time: the result depends on every round done', () => {
    // xorshift is a bijection of 32-bit words: the JIT cannot skip rounds whose result is kept
    const once = doCpuWork(2)
    expect(doCpuWork(0)).toBe(once)
    const afterTwoMore = doCpuWork(2)
    expect(afterTwoMore).not.toBe(once)
    expect(Number.isInteger(afterTwoMore)).toBe(true)
  })

  it('holds the event loop while it works: no other callback runs meanwhile', () => {
    let turns = 0
    const other = setImmediate(() => turns++)
    doCpuWork(500)
    expect(turns).toBe(0)
    clearImmediate(other)
  })
})
