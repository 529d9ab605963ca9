import { setTimeout as sleep } from 'node:timers/promises'
import type { FaultSettings } from './config.js'

/**
 * Fault injection for deploy demos: a canary started with FAULT_ERROR_RATE or FAULT_LATENCY_MS
 * misbehaves on purpose, so the canary judge has something to catch and roll back;
 * FAULT_REPORT_CPU slows one function down, for profile diffs.
 */
export function shouldInjectError(faults: FaultSettings, random: () => number): boolean {
  return faults.errorRate > 0 && random() < faults.errorRate
}

export function hasFaults(faults: FaultSettings): boolean {
  return faults.errorRate > 0 || faults.latencyMs > 0 || faults.slowdown > 0 || faults.reportCpuFactor > 1
}

/**
 * Waits at least `ms`, fractions included. Timers resolve whole milliseconds (and can fire a
 * little early by the clock), so a timer covers the whole milliseconds and the rest is polled
 * between turns of the event loop, other requests still running: FAULT_LATENCY_MS=1.2 adds
 * 1.2 ms and a little, where a timer alone would add "1 or 2".
 */
export async function injectLatency(ms: number, now: () => number = () => performance.now()): Promise<void> {
  const deadline = now() + ms
  if (ms >= 1) await sleep(Math.floor(ms))
  while (now() < deadline) await new Promise<void>((resolve) => setImmediate(resolve))
}

/**
 * Keeps the CPU busy for `ms`, the event loop with it: code that got slower, which no other
 * request's work can hide (as it can a wait between event-loop turns).
 */
export function burnCpu(ms: number, now: () => number = () => performance.now()): void {
  const deadline = now() + ms
  while (now() < deadline) {
    // busy on purpose
  }
}

export interface Slowdown {
  /** When a request starts: what it must not count as its own time later. */
  mark(): number
  /** When it is answered, after `elapsedMs`: burns `share` of its own time. */
  finish(elapsedMs: number, mark: number): void
}

/**
 * FAULT_SLOWDOWN: each request burns a share of its own time on the CPU, so the regression stays
 * the same share when the machine is faster or slower (a fixed delay would not). Its own time
 * leaves out what other requests' burns held the event loop: counted in, every burn would lengthen
 * the next and a stall would spiral (a 200 ms pause grew to seconds within a run).
 */
export function createSlowdown(share: number, now: () => number = () => performance.now()): Slowdown {
  let burned = 0
  return {
    mark: () => burned,
    finish(elapsedMs, mark) {
      const ms = Math.max(0, elapsedMs - (burned - mark)) * share
      burnCpu(ms, now)
      burned += ms
    },
  }
}
