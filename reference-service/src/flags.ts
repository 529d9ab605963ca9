import { InMemStorageProvider, Unleash } from 'unleash-client'
import { ConfigError } from './config.js'

/**
 * Feature flags sit behind this one interface: the routes ask `isEnabled`, and the server picks
 * the provider once (`flagProviderFromEnv`): Unleash's Node SDK when UNLEASH_URL is set (a real
 * Unleash server, or `opsctl flags serve`), environment variables otherwise.
 */
export interface FlagContext {
  userId?: string
}

export interface FlagProvider {
  isEnabled(name: string, context?: FlagContext): boolean
  close?(): Promise<void>
}

/** The flags the service asks about, so they can be listed and documented in one place. */
export const FLAG_ORDERS_EAGER_LOADING = 'orders.eager-loading'

/**
 * Flags from `OPSCTL_FLAGS`: comma-separated names that are on; `name=false` forces one off
 * (useful to override a default later), `name=true` is the same as `name`.
 * Throws on an entry it cannot read rather than silently treating it as off.
 */
export function envFlagProvider(env: Record<string, string | undefined> = process.env): FlagProvider {
  const states = parseFlagList(env.OPSCTL_FLAGS ?? '')
  return { isEnabled: (name) => states.get(name) ?? false }
}

const FLAG_VALUES: Record<string, boolean> = { true: true, on: true, '1': true, false: false, off: false, '0': false }

export function parseFlagList(text: string): Map<string, boolean> {
  const states = new Map<string, boolean>()
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [name = '', value, ...rest] = entry.split('=').map((part) => part.trim())
    const state = value === undefined ? true : FLAG_VALUES[value.toLowerCase()]
    if (name === '' || rest.length > 0 || state === undefined) {
      throw new ConfigError(`OPSCTL_FLAGS entry "${entry}" is not "name", "name=true" or "name=false"`)
    }
    states.set(name, state)
  }
  return states
}

export interface UnleashFlagOptions {
  /** The Unleash API root, e.g. http://127.0.0.1:4242/api (a URL without /api gets it added). */
  url: string
  /** A client API token of the environment, e.g. `*:development.<secret>`. */
  token: string
  appName?: string
  /** How often the SDK fetches the flags (default 15 s, the SDK's). */
  refreshIntervalMs?: number
  /** How often it reports evaluation counts (default 60 s). */
  metricsIntervalMs?: number
  /** Answers for flags Unleash does not know, and for all flags until the first fetch arrives. */
  fallback?: FlagProvider
  /** How long startup waits for the first fetch before going on with the fallback (default 5 s). */
  readyTimeoutMs?: number
  onWarning?: (message: string) => void
}

export const DEFAULT_UNLEASH_APP_NAME = 'reference-service'

/**
 * Flags evaluated by unleash-client against a real Unleash server or `opsctl flags serve`. The
 * SDK polls every refreshIntervalMs and evaluates locally, so a request never waits on the flag
 * server, and a flag server that is down leaves the last fetched flags (or the fallback) in force.
 */
export async function unleashFlagProvider(options: UnleashFlagOptions): Promise<FlagProvider> {
  const fallback = options.fallback ?? { isEnabled: () => false }
  const warn = options.onWarning ?? (() => {})
  const client = new Unleash({
    url: unleashApiUrl(options.url),
    appName: options.appName ?? DEFAULT_UNLEASH_APP_NAME,
    customHeaders: { Authorization: options.token },
    refreshInterval: options.refreshIntervalMs ?? 15_000,
    metricsInterval: options.metricsIntervalMs ?? 60_000,
    // No backup file in the working directory: the fallback covers the time before the first fetch.
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
  })
  // An EventEmitter without an error listener would crash the process on the first failed fetch.
  client.on('error', (error: Error) => warn(`unleash: ${error.message}`))
  client.on('warn', (message: string) => warn(`unleash: ${message}`))
  const synchronized = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.readyTimeoutMs ?? 5000)
    client.once('synchronized', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
  if (!synchronized) warn(`unleash: no flags from ${options.url} yet; using the fallback until they arrive`)
  return {
    isEnabled: (name, context) =>
      client.isEnabled(name, context?.userId === undefined ? {} : { userId: context.userId }, () => fallback.isEnabled(name, context)),
    async close() {
      // Send the last evaluation counts, but never hold up shutdown for long on a flag server that is gone.
      const flushed = await Promise.race([
        client.destroyWithFlush().then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
      ])
      if (!flushed) client.destroy()
      await fallback.close?.()
    },
  }
}

/**
 * The provider the environment asks for: Unleash when UNLEASH_URL is set (UNLEASH_API_TOKEN is
 * then required), with OPSCTL_FLAGS as the fallback for flags it does not know; OPSCTL_FLAGS alone
 * otherwise. UNLEASH_APP_NAME, UNLEASH_REFRESH_INTERVAL_MS and UNLEASH_METRICS_INTERVAL_MS tune it.
 */
export async function flagProviderFromEnv(
  env: Record<string, string | undefined> = process.env,
  onWarning?: (message: string) => void,
): Promise<FlagProvider> {
  const fallback = envFlagProvider(env)
  const url = env.UNLEASH_URL?.trim()
  if (!url) return fallback
  const token = env.UNLEASH_API_TOKEN?.trim()
  if (!token) throw new ConfigError('UNLEASH_URL is set but UNLEASH_API_TOKEN is not (a client token of the environment)')
  try {
    new URL(url)
  } catch {
    throw new ConfigError(`UNLEASH_URL=${url} is not a URL`)
  }
  return unleashFlagProvider({
    url,
    token,
    appName: env.UNLEASH_APP_NAME?.trim() || DEFAULT_UNLEASH_APP_NAME,
    refreshIntervalMs: readMilliseconds(env, 'UNLEASH_REFRESH_INTERVAL_MS', 15_000),
    metricsIntervalMs: readMilliseconds(env, 'UNLEASH_METRICS_INTERVAL_MS', 60_000),
    fallback,
    ...(onWarning ? { onWarning } : {}),
  })
}

function readMilliseconds(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const text = env[name]?.trim()
  if (!text) return fallback
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(value) || value < 100 || value > 3_600_000)
    throw new ConfigError(`${name}=${text} is not a number of milliseconds between 100 and 3600000`)
  return value
}

/** The SDK resolves client/features against this, so it has to end in /api/. */
function unleashApiUrl(url: string): string {
  const parsed = new URL(url)
  const path = parsed.pathname.replace(/\/+$/, '')
  parsed.pathname = `${path.endsWith('/api') ? path : `${path}/api`}/`
  return parsed.toString()
}
