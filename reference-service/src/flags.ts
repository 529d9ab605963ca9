import { ConfigError } from './config.js'

/**
 * Feature flags sit behind this one interface so that moving from environment variables to
 * Unleash changes one constructor call in the server, not the routes that ask.
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
  for (const entry of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [name = '', value, ...rest] = entry.split('=').map((part) => part.trim())
    const state = value === undefined ? true : FLAG_VALUES[value.toLowerCase()]
    if (name === '' || rest.length > 0 || state === undefined) {
      throw new ConfigError(`OPSCTL_FLAGS entry "${entry}" is not "name", "name=true" or "name=false"`)
    }
    states.set(name, state)
  }
  return states
}
