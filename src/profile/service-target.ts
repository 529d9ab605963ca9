/**
 * Targets opsctl knows by name (`--service reference`) and where runs write by default. The
 * service's own node arguments (compiled when built, else tsx) come from the caller as plain data:
 * the command layer gets them from the demo module, so profiling does not depend on it.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { badInput } from '../core/index.js'
import type { ProfileTarget } from './capture.js'

export const KNOWN_SERVICES = ['reference'] as const
export type KnownService = (typeof KNOWN_SERVICES)[number]

/** The node arguments that start each known service (`['--import', 'tsx/esm', 'server.ts']`). */
export type ServiceCommands = Record<KnownService, () => string[]>

export interface ServiceTarget {
  target: ProfileTarget
  /** The load when --load and --scenario are not given: the service's CPU-heavy endpoint. */
  defaultLoad: string
}

/**
 * The reference service on a free port of 127.0.0.1, migrated and seeded if its database is empty
 * (seeding skips a seeded database). Without a database URL it uses its embedded database.
 */
export function serviceTarget(
  name: string,
  commands: ServiceCommands,
  options: { databaseUrl?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ServiceTarget {
  if (name !== 'reference')
    throw badInput(`Unknown service "${name}"`, `Known services: ${KNOWN_SERVICES.join(', ')}; or give your own command after --.`)
  const env = options.env ?? process.env
  return {
    target: {
      label: 'reference',
      command: [process.execPath, ...commands.reference()],
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        MIGRATE: env.MIGRATE ?? '1',
        SEED: env.SEED ?? '1',
        ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    },
    defaultLoad: '/reports/revenue',
  }
}

/** `.opsctl/profiles/2024-05-01T10-00-00Z/` (a suffix when two runs start in the same second). */
export function defaultProfileDir(stateDir: string, now: Date = new Date(), prefix = ''): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-')
  const base = join(stateDir, 'profiles', `${prefix}${stamp}`)
  let candidate = base
  for (let n = 2; existsSync(candidate); n++) candidate = `${base}-${n}`
  return candidate
}
