/**
 * CPU pressure (Linux PSI, /proc/pressure/cpu): the share of wall time in which some runnable
 * task waited for a CPU. It says whether the machine was busy with other work while the gate
 * measured: on a shared CI runner that is the noise no repetition averages away, because it
 * shifts every run of one side alike. Elsewhere (macOS, old kernels, some containers) it is
 * unknown and the gate does without. Adapter.
 */
import { readFileSync } from 'node:fs'

export function cpuPressureTotalUs(file = '/proc/pressure/cpu'): number | undefined {
  try {
    const match = /^some .*\btotal=(\d+)/m.exec(readFileSync(file, 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

/** Runs the work and returns its result with the CPU pressure over its duration (0..1), when known. */
export async function withCpuPressure<T>(work: () => Promise<T>): Promise<{ result: T; cpuPressure: number | undefined }> {
  const before = cpuPressureTotalUs()
  const started = process.hrtime.bigint()
  const result = await work()
  const after = cpuPressureTotalUs()
  const wallUs = Number((process.hrtime.bigint() - started) / 1000n)
  const cpuPressure =
    before !== undefined && after !== undefined && wallUs > 0 ? Math.min(1, Math.max(0, (after - before) / wallUs)) : undefined
  return { result, cpuPressure }
}
