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
  return faults.errorRate > 0 || faults.latencyMs > 0 || faults.reportCpuFactor > 1
}
