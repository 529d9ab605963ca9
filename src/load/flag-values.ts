/** The load commands' flag values (durations already parsed at the edge) checked and turned into plan overrides. Pure. */
import { badInput } from '../core/index.js'
import type { PlanOverrides } from './build-plan.js'
import { HTTP_METHODS } from './scenario.js'
import { pointAt, tryParseThreshold, type Threshold } from './thresholds.js'

export interface LoadFlagValues {
  connections?: number
  /** Milliseconds (flags parse durations at the edge). */
  duration?: number
  requests?: number
  rate?: string
  warmup?: number
  timeout?: number
  workers?: number
  threshold?: string[]
}

export function overridesFromFlags(flags: LoadFlagValues): PlanOverrides {
  const overrides: PlanOverrides = {}
  if (flags.connections !== undefined) overrides.connections = flags.connections
  if (flags.duration !== undefined) {
    overrides.durationMs = flags.duration
    if (overrides.durationMs <= 0) throw badInput('--duration must be more than 0s')
  }
  if (flags.requests !== undefined) overrides.requests = flags.requests
  if (flags.rate !== undefined) {
    const rate = Number(flags.rate)
    if (!(Number.isFinite(rate) && rate > 0 && rate <= 1_000_000))
      throw badInput(`--rate must be a number of requests per second above 0, got "${flags.rate}"`)
    overrides.rate = rate
  }
  if (flags.warmup !== undefined) overrides.warmupMs = flags.warmup
  if (flags.timeout !== undefined) {
    overrides.timeoutMs = flags.timeout
    if (overrides.timeoutMs < 1000) throw badInput('--timeout must be at least 1s (autocannon counts timeouts in seconds)')
  }
  if (flags.workers !== undefined) overrides.workers = flags.workers
  if (flags.threshold?.length) overrides.thresholds = flags.threshold.map(parseThresholdFlag)
  return overrides
}

/** A --threshold value, or a bad-input error pointing at the column that is wrong. */
export function parseThresholdFlag(text: string): Threshold {
  const parsed = tryParseThreshold(text)
  if (parsed.ok) return parsed.threshold
  throw badInput(
    `Invalid threshold "${text.slice(0, 80)}" at column ${parsed.column}: ${parsed.reason}\n${pointAt(text, parsed.column)}`,
    "Write thresholds like 'p99<250ms', 'p95<100ms', 'error_rate<1%' or 'rps>500'.",
  )
}

/** -H 'name: value' */
export function parseHeaderFlags(values: readonly string[] = []): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const value of values) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*)$/.exec(value)
    if (!match || /[\r\n]/.test(value)) throw badInput(`Invalid header "${value.slice(0, 80)}"`, "Write headers as -H 'name: value'.")
    headers[match[1]!] = match[2]!
  }
  return headers
}

export function parseMethodFlag(method: string | undefined): string | undefined {
  if (method === undefined) return undefined
  const upper = method.toUpperCase()
  if (!(HTTP_METHODS as readonly string[]).includes(upper))
    throw badInput(`Unknown --method "${method}"`, `Use one of ${HTTP_METHODS.join(', ')}.`)
  return upper
}

export interface LoadCommandFlags extends LoadFlagValues {
  runs?: number
  baseline?: string
  out?: string
  'allow-remote'?: boolean
}

/** Everything but the source of the requests, from the flags both load commands share. */
export function loadOptionsFromFlags(flags: LoadCommandFlags): {
  overrides: PlanOverrides
  runs: number
  baseline?: string
  out?: string
  allowRemote: boolean
} {
  return {
    overrides: overridesFromFlags(flags),
    runs: flags.runs ?? 1,
    ...(flags.baseline !== undefined ? { baseline: flags.baseline } : {}),
    ...(flags.out !== undefined ? { out: flags.out } : {}),
    allowRemote: flags['allow-remote'] ?? false,
  }
}
