/**
 * The open model: requests arrive on a schedule that does not wait for the server, at a
 * constant rate or along ramping stages (k6's constant- and ramping-arrival-rate). Request k is
 * *intended* at the moment the cumulative arrivals reach k, and its latency is measured from that
 * moment, not from when a connection became free to send it. A server that stalls for a second
 * therefore shows a second of latency on every request that should have been sent during the
 * stall: the coordinated-omission correction of wrk2 and k6. Pure: time is passed in.
 */

export interface RateStage {
  durationMs: number
  /** Requests per second at the end of the stage; the rate moves linearly from the previous one. */
  target: number
}

export interface ArrivalPlan {
  /** Requests per second at the start. */
  startRate: number
  stages: RateStage[]
}

export function constantArrival(rate: number, durationMs: number): ArrivalPlan {
  return { startRate: rate, stages: [{ durationMs, target: rate }] }
}

export function arrivalDurationMs(plan: ArrivalPlan): number {
  return plan.stages.reduce((total, stage) => total + stage.durationMs, 0)
}

export function peakRate(plan: ArrivalPlan): number {
  return Math.max(plan.startRate, ...plan.stages.map((stage) => stage.target))
}

/** The same plan at a fraction of the rate: each of n threads carries 1/n of the arrivals. */
export function scaleArrival(plan: ArrivalPlan, factor: number): ArrivalPlan {
  return { startRate: plan.startRate * factor, stages: plan.stages.map((stage) => ({ ...stage, target: stage.target * factor })) }
}

/** The rate (requests per second) at time t (ms since the start). */
export function rateAt(plan: ArrivalPlan, tMs: number): number {
  let from = plan.startRate
  let elapsed = 0
  for (const stage of plan.stages) {
    if (tMs < elapsed + stage.durationMs) return from + ((stage.target - from) * (tMs - elapsed)) / stage.durationMs
    elapsed += stage.durationMs
    from = stage.target
  }
  return 0
}

/** Expected arrivals in [0, t): the integral of the rate. After the last stage nothing arrives. */
export function arrivalsBy(plan: ArrivalPlan, tMs: number): number {
  let from = plan.startRate
  let elapsed = 0
  let total = 0
  for (const stage of plan.stages) {
    const seconds = stage.durationMs / 1000
    const within = Math.min(Math.max(tMs - elapsed, 0), stage.durationMs) / 1000
    // linear rate: from + (target - from) * x / seconds, integrated over [0, within]
    total += from * within + (seconds > 0 ? ((stage.target - from) * within * within) / (2 * seconds) : 0)
    elapsed += stage.durationMs
    from = stage.target
    if (tMs <= elapsed) break
  }
  return total
}

/** Arrivals in the whole plan: request k exists for k < this count. */
export function totalArrivals(plan: ArrivalPlan): number {
  return Math.ceil(arrivalsBy(plan, arrivalDurationMs(plan)) - 1e-9)
}

/** When request k (0-based) is intended, in ms since the start; undefined past the end of the plan. */
export function arrivalTime(plan: ArrivalPlan, k: number): number | undefined {
  let from = plan.startRate
  let elapsed = 0
  let before = 0
  for (const stage of plan.stages) {
    const seconds = stage.durationMs / 1000
    const inStage = from * seconds + ((stage.target - from) * seconds) / 2
    if (k < before + inStage - 1e-9) {
      const remaining = k - before
      const slope = seconds > 0 ? (stage.target - from) / seconds : 0
      let x: number
      if (Math.abs(slope) < 1e-12) x = remaining / from
      else {
        // from * x + slope * x^2 / 2 = remaining; the stable root of the quadratic
        const discriminant = Math.max(0, from * from + 2 * slope * remaining)
        x = (2 * remaining) / (from + Math.sqrt(discriminant))
      }
      return elapsed + Math.min(stage.durationMs, Math.max(0, x * 1000))
    }
    before += inStage
    elapsed += stage.durationMs
    from = stage.target
  }
  return undefined
}

export type PacerDecision = { kind: 'send'; slot: number; intendedAt: number } | { kind: 'wait'; until: number } | { kind: 'done' }

/**
 * Hands out arrival slots. `claim(now)` gives the next slot once it is due; a slot that is already
 * overdue (every connection was busy) is handed out at once and keeps its intended time, which
 * is what the latency is then measured from. Times are absolute (any clock, in ms).
 */
export class Pacer {
  private next = 0
  private nextAt: number | undefined

  constructor(
    private readonly plan: ArrivalPlan,
    private readonly startAt: number,
    /** Stop after this many slots (a request count), or at the end of the plan. */
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {
    this.nextAt = this.timeOf(0)
  }

  claim(now: number): PacerDecision {
    if (this.nextAt === undefined || this.next >= this.limit) return { kind: 'done' }
    if (this.nextAt > now) return { kind: 'wait', until: this.nextAt }
    const decision: PacerDecision = { kind: 'send', slot: this.next, intendedAt: this.nextAt }
    this.next++
    this.nextAt = this.timeOf(this.next)
    return decision
  }

  /** Slots handed out so far. */
  get claimed(): number {
    return this.next
  }

  /** Slots that were due by `now`, handed out or not: the schedule's promise so far. */
  dueBy(now: number): number {
    const due = Math.ceil(arrivalsBy(this.plan, now - this.startAt) - 1e-9)
    return Math.min(due, this.limit)
  }

  private timeOf(slot: number): number | undefined {
    if (slot >= this.limit) return undefined
    const offset = arrivalTime(this.plan, slot)
    return offset === undefined ? undefined : this.startAt + offset
  }
}

/** Latency of one request: from its intended send time in the open model, from its actual send in the closed one. */
export function measuredLatency(sample: { intendedAt: number; sentAt: number; completedAt: number }, model: 'open' | 'closed'): number {
  return sample.completedAt - (model === 'open' ? Math.min(sample.intendedAt, sample.sentAt) : sample.sentAt)
}
