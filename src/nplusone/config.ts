import { parseDuration } from '../core/index.js'
import type { NPlusOneOptions } from './types.js'

/** The `nplusone:` section of opsctl.yaml (see docs/nplusone.md). */
export interface NPlusOneConfig {
  ignore?: string[]
  minRepeats?: number
  minTotal?: string
  idleGap?: string
}

export interface NPlusOneFlagValues {
  ignore?: string[]
  'min-repeats'?: number
  'min-total'?: string
  'idle-gap'?: string
  'show-params'?: boolean
}

/**
 * Detector options from config and flags (flags win; ignore lists add up). `config` is the
 * `nplusone` section when opsctl.yaml has one.
 */
export function nplusoneOptions(flags: NPlusOneFlagValues, config: NPlusOneConfig = {}): NPlusOneOptions {
  const minTotal = flags['min-total'] ?? config.minTotal
  const idleGap = flags['idle-gap'] ?? config.idleGap
  const minRepeats = flags['min-repeats'] ?? config.minRepeats
  return {
    ignore: [...(config.ignore ?? []), ...(flags.ignore ?? [])],
    ...(minRepeats !== undefined ? { minRepeats } : {}),
    ...(minTotal !== undefined ? { minTotalMs: parseDuration(minTotal, flags['min-total'] ? '--min-total' : 'nplusone.minTotal') } : {}),
    ...(idleGap !== undefined ? { idleGapMs: parseDuration(idleGap, flags['idle-gap'] ? '--idle-gap' : 'nplusone.idleGap') } : {}),
    showParams: flags['show-params'] ?? false,
  }
}

/** The `nplusone` section of a loaded config, once the schema has one; until then nothing. */
export function nplusoneConfigOf(config: unknown): NPlusOneConfig {
  const section = (config as { nplusone?: unknown } | undefined)?.nplusone
  return section && typeof section === 'object' ? (section as NPlusOneConfig) : {}
}
