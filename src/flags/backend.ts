/**
 * Where flags live: flags.yaml (flags as code) or a real Unleash server (its Admin API). The
 * commands work the same on both through this interface.
 */
import type { FlagChange } from './edit.js'

export interface StrategyView {
  name: string
  /** flexibleRollout's percentage. */
  rollout?: number
  /** One line: "25% of users by userId", "users 1, 2, 3", "3 constraints". */
  summary: string
}

export interface EnvironmentView {
  name: string
  enabled: boolean
  /** Share of users reached: 100 for the default strategy, undefined when targeting decides. */
  rollout?: number | undefined
  strategies: StrategyView[]
  variants: Array<{ name: string; weightPercent: number }>
  evaluations?: { yes: number; no: number; lastSeenAt?: string | undefined } | undefined
}

export interface FlagView {
  name: string
  type: string
  description: string
  owner?: string | undefined
  /** ISO date or date-time. */
  createdAt?: string | undefined
  environments: EnvironmentView[]
  /** Flags this one depends on (it is on only with them). */
  parents?: string[] | undefined
  /** Over all environments; undefined when nothing reported. */
  evaluations?: { yes: number; no: number; lastSeenAt?: string | undefined } | undefined
}

export interface FlagListing {
  /** "flags.yaml" or "Unleash at https://…" (no secrets). */
  source: string
  backend: 'file' | 'unleash'
  environments: string[]
  flags: FlagView[]
  /** False when no SDK has reported evaluations to this source yet. */
  evaluationsKnown: boolean
}

export interface FlagBackend {
  readonly kind: 'file' | 'unleash'
  readonly source: string
  list(): Promise<FlagListing>
  get(name: string): Promise<FlagView>
  setEnabled(name: string, environment: string, enabled: boolean): Promise<FlagChange>
  setRollout(name: string, environment: string, percent: number): Promise<FlagChange>
  /** Off in every environment at once. */
  kill(name: string): Promise<FlagChange>
}
