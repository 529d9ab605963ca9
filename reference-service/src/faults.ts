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
  return faults.errorRate > 0 || faults.latencyMs > 0 || faults.cpuWork > 0 || faults.reportCpuFactor > 1
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

/** The last value of the work, kept so that the JIT cannot drop the loop as dead code. */
let workResult = 1

/**
 * FAULT_CPU_WORK: a fixed amount of computation (`units` × 1,000 xorshift rounds) on the event
 * loop. Being work, not time, it slows down with the machine as the service's own code does, so a
 * regression calibrated at +20% stays near +20% when the machine drifts.
 */
export function doCpuWork(units: number): number {
  let x = workResult | 1
  for (let i = 0; i < units * 1000; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
  }
  workResult = x
  return x
}
