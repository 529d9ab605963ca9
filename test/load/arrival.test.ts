import { describe, expect, it } from 'vitest'
import { quantile } from '../../src/stats/index.js'
import {
  Pacer,
  arrivalTime,
  arrivalsBy,
  constantArrival,
  measuredLatency,
  rateAt,
  scaleArrival,
  totalArrivals,
  type ArrivalPlan,
} from '../../src/load/arrival.js'

describe('arrival schedule', () => {
  it('spaces a constant rate evenly from the start', () => {
    const plan = constantArrival(100, 3000)
    expect(arrivalTime(plan, 0)).toBe(0)
    expect(arrivalTime(plan, 1)).toBeCloseTo(10)
    expect(arrivalTime(plan, 299)).toBeCloseTo(2990)
    expect(arrivalTime(plan, 300)).toBeUndefined()
    expect(totalArrivals(plan)).toBe(300)
    expect(arrivalsBy(plan, 1500)).toBeCloseTo(150)
    expect(arrivalsBy(plan, 10_000)).toBeCloseTo(300)
  })

  it('ramps linearly between stages, like k6 ramping-arrival-rate', () => {
    const plan: ArrivalPlan = {
      startRate: 0,
      stages: [
        { durationMs: 10_000, target: 100 },
        { durationMs: 5000, target: 100 },
        { durationMs: 5000, target: 0 },
      ],
    }
    expect(rateAt(plan, 5000)).toBeCloseTo(50)
    expect(rateAt(plan, 12_000)).toBeCloseTo(100)
    expect(rateAt(plan, 17_500)).toBeCloseTo(50)
    expect(arrivalsBy(plan, 5000)).toBeCloseTo(125) // 0.5 * 5 s * 50 rps
    expect(arrivalsBy(plan, 10_000)).toBeCloseTo(500)
    expect(arrivalsBy(plan, 15_000)).toBeCloseTo(1000)
    expect(arrivalsBy(plan, 20_000)).toBeCloseTo(1250)
    expect(totalArrivals(plan)).toBe(1250)
  })

  it('inverts the cumulative arrivals exactly at every slot', () => {
    const plan: ArrivalPlan = {
      startRate: 20,
      stages: [
        { durationMs: 3000, target: 200 },
        { durationMs: 2000, target: 200 },
        { durationMs: 4000, target: 5 },
      ],
    }
    const total = totalArrivals(plan)
    let previous = -1
    for (let k = 0; k < total; k++) {
      const t = arrivalTime(plan, k)!
      expect(t).toBeGreaterThanOrEqual(previous)
      expect(arrivalsBy(plan, t)).toBeCloseTo(k, 6)
      previous = t
    }
    expect(arrivalTime(plan, total)).toBeUndefined()
  })

  it('skips a stage at rate zero', () => {
    const plan: ArrivalPlan = {
      startRate: 10,
      stages: [
        { durationMs: 1000, target: 10 },
        { durationMs: 0, target: 0 },
        { durationMs: 1000, target: 0 },
        { durationMs: 0, target: 10 },
        { durationMs: 1000, target: 10 },
      ],
    }
    expect(arrivalTime(plan, 9)).toBeCloseTo(900)
    expect(arrivalTime(plan, 10)).toBeCloseTo(2000)
  })

  it('shares a plan between threads by scaling the rate', () => {
    const plan = scaleArrival(constantArrival(300, 1000), 1 / 3)
    expect(totalArrivals(plan)).toBe(100)
  })
})

describe('Pacer', () => {
  it('makes a connection wait for the next slot', () => {
    const pacer = new Pacer(constantArrival(100, 1000), 5000)
    expect(pacer.claim(5000)).toEqual({ kind: 'send', slot: 0, intendedAt: 5000 })
    expect(pacer.claim(5004)).toEqual({ kind: 'wait', until: 5010 })
    expect(pacer.claim(5010)).toEqual({ kind: 'send', slot: 1, intendedAt: 5010 })
  })

  it('hands out overdue slots at once, keeping their intended time', () => {
    const pacer = new Pacer(constantArrival(100, 1000), 0)
    pacer.claim(0)
    const late = pacer.claim(55)
    expect(late).toEqual({ kind: 'send', slot: 1, intendedAt: 10 })
    expect(pacer.claim(55)).toMatchObject({ kind: 'send', slot: 2, intendedAt: 20 })
    expect(pacer.dueBy(55)).toBe(6)
  })

  it('is done at the end of the plan or at its request limit', () => {
    const short = new Pacer(constantArrival(10, 200), 0)
    expect(short.claim(0).kind).toBe('send')
    expect(short.claim(100).kind).toBe('send')
    expect(short.claim(1000)).toEqual({ kind: 'done' })
    const limited = new Pacer(constantArrival(1000, 60_000), 0, 3)
    for (let i = 0; i < 3; i++) expect(limited.claim(10_000).kind).toBe('send')
    expect(limited.claim(10_000)).toEqual({ kind: 'done' })
    expect(limited.claimed).toBe(3)
  })
})

/**
 * A server on one connection answers in 1 ms, except once, at t = 1 s, when it stalls for
 * 500 ms. Sent at 100 rps for 3 s. A closed loop measures one slow request; the open model
 * measures what every user who arrived during the stall experienced.
 */
function simulateStall(model: 'open' | 'closed'): number[] {
  const plan = constantArrival(100, 3000)
  const pacer = new Pacer(plan, 0)
  const latencies: number[] = []
  let clock = 0
  let stalled = false
  for (;;) {
    const decision = pacer.claim(clock)
    if (decision.kind === 'done') break
    if (decision.kind === 'wait') {
      clock = decision.until
      continue
    }
    const sentAt = clock
    const service = !stalled && sentAt >= 1000 ? ((stalled = true), 500) : 1
    const completedAt = sentAt + service
    latencies.push(measuredLatency({ intendedAt: decision.intendedAt, sentAt, completedAt }, model))
    clock = completedAt
  }
  return latencies
}

describe('coordinated omission', () => {
  it('counts the stall against every request scheduled during it in the open model', () => {
    const open = simulateStall('open')
    const closed = simulateStall('closed')
    expect(open).toHaveLength(300)
    expect(closed).toHaveLength(300)
    // closed loop: one request saw the stall; the other 299 look perfect
    expect(closed.filter((latency) => latency > 10)).toHaveLength(1)
    expect(quantile(closed, 0.99)).toBeLessThan(2)
    // open model: the ~50 requests due during the stall waited for it (500 ms down to ~10 ms),
    // and the few that arrived while the backlog drained waited a little
    const delayed = open.filter((latency) => latency > 10)
    expect(delayed.length).toBeGreaterThanOrEqual(50)
    expect(delayed.length).toBeLessThanOrEqual(60)
    expect(Math.max(...open)).toBeCloseTo(500, 0)
    expect(quantile(open, 0.99)).toBeGreaterThan(400)
  })

  it('measures from the actual send when the send was on time', () => {
    expect(measuredLatency({ intendedAt: 100, sentAt: 100, completedAt: 120 }, 'open')).toBe(20)
    expect(measuredLatency({ intendedAt: 100, sentAt: 180, completedAt: 200 }, 'open')).toBe(100)
    expect(measuredLatency({ intendedAt: 100, sentAt: 180, completedAt: 200 }, 'closed')).toBe(20)
  })
})
