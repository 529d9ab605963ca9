/**
 * The service's settings, read once from the environment. Pure: env in, settings out, so the
 * parsing rules are tested without starting anything.
 */

export interface FaultSettings {
  /** Share of requests (0..1) answered with 500, to make a canary fail on purpose. */
  errorRate: number
  /** Delay added before each request is handled, to make a canary slow on purpose. */
  latencyMs: number
  /**
   * Fixed CPU work added to each request, in units of 1,000 xorshift rounds (about 2 µs a unit on
   * a server core): code that got slower by a fixed amount of computation, which takes longer on a
   * slower machine as the rest of the code does (a wait, or a burn for a share of the request's
   * time, does not; the latter also fed on itself when a stall lengthened every request).
   */
  cpuWork: number
  /**
   * The revenue report's aggregation does its per-row work this many times (1 = normal): a CPU
   * regression in one named function, for `opsctl profile diff` and performance-gate demos.
   */
  reportCpuFactor: number
}

export interface ServiceConfig {
  port: number
  host: string
  /** Unset means the embedded database from opsctl's db module. */
  databaseUrl: string | undefined
  poolMax: number
  migrate: boolean
  seed: boolean
  seedScale: number
  faults: FaultSettings
  logLevel: LogLevel
  stateDir: string
  /** Where the live query hook writes each statement (JSON lines) for `opsctl db nplusone --service-log`; unset = off. */
  queryLog: string | undefined
  /** Share of requests whose statements the query hook records (whole requests; 1 = all). */
  querySampleRate: number
  /** Overrides the VERSION file, so one checkout can run as "v1" and "v2" in a deploy demo. */
  versionOverride: string | undefined
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export const NO_FAULTS: FaultSettings = { errorRate: 0, latencyMs: 0, cpuWork: 0, reportCpuFactor: 1 }

/** A setting that cannot be understood; the message names the variable and the value. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

export function loadServiceConfig(env: Env): ServiceConfig {
  const seed = readBoolean(env, 'SEED', false)
  return {
    port: readInteger(env, 'PORT', 3000, 0, 65_535),
    host: readString(env, 'HOST') ?? '127.0.0.1',
    databaseUrl: readString(env, 'DATABASE_URL'),
    poolMax: readInteger(env, 'PG_POOL_MAX', 10, 1, 1000),
    // Seeding needs the schema, so SEED=1 migrates too (migrations are idempotent).
    migrate: readBoolean(env, 'MIGRATE', false) || seed,
    seed,
    seedScale: readScale(env, 'SEED_SCALE', 1),
    faults: {
      errorRate: readRate(env, 'FAULT_ERROR_RATE', 0),
      latencyMs: readMilliseconds(env, 'FAULT_LATENCY_MS', 600_000),
      cpuWork: readInteger(env, 'FAULT_CPU_WORK', 0, 0, 1_000_000),
      reportCpuFactor: readInteger(env, 'FAULT_REPORT_CPU', 1, 1, 100),
    },
    logLevel: readLogLevel(env, 'LOG_LEVEL', 'info'),
    stateDir: readString(env, 'OPSCTL_STATE_DIR') ?? '.opsctl',
    queryLog: readString(env, 'OPSCTL_QUERY_LOG'),
    querySampleRate: readRate(env, 'OPSCTL_QUERY_SAMPLE', 1),
    versionOverride: readString(env, 'SERVICE_VERSION'),
  }
}

function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = readString(env, name)
  if (text === undefined) return fallback
  const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${text} is not an integer between ${min} and ${max}`)
  }
  return value
}

/** Milliseconds with up to three decimals: a +20% fault on a 6 ms endpoint is 1.2 ms. */
function readMilliseconds(env: Env, name: string, max: number): number {
  const text = readString(env, name)
  if (text === undefined) return 0
  const value = /^\d+(\.\d{1,3})?$/.test(text) ? Number(text) : Number.NaN
  if (!(value <= max)) throw new ConfigError(`${name}=${text} is not a number of milliseconds between 0 and ${max} (up to 3 decimals)`)
  return value
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const text = readString(env, name)?.toLowerCase()
  if (text === undefined) return fallback
  if (['1', 'true', 'yes', 'on'].includes(text)) return true
  if (['0', 'false', 'no', 'off'].includes(text)) return false
  throw new ConfigError(`${name}=${text} is not a boolean (use 1 or 0)`)
}

/** A share 0..1, also written as a percentage ("25%") as everywhere else in opsctl. */
function readRate(env: Env, name: string, fallback: number): number {
  const text = readString(env, name)
  if (text === undefined) return fallback
  const percent = text.endsWith('%')
  const value = Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1)
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(`${name}=${text} is not a share between 0 and 1 (or 0% and 100%)`)
  }
  return value
}

function readScale(env: Env, name: string, fallback: number): number {
  const text = readString(env, name)
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || value > 100) {
    throw new ConfigError(`${name}=${text} is not a scale above 0 and at most 100`)
  }
  return value
}

function readLogLevel(env: Env, name: string, fallback: LogLevel): LogLevel {
  const text = readString(env, name)?.toLowerCase()
  if (text === undefined) return fallback
  const level = LOG_LEVELS.find((candidate) => candidate === text)
  if (!level) throw new ConfigError(`${name}=${text} is not one of ${LOG_LEVELS.join(', ')}`)
  return level
}
