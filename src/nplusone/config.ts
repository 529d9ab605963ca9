import { configSchema, parseDuration, type Config } from '../core/index.js'
import type { NPlusOneOptions } from './types.js'

/** The `nplusone:` section of opsctl.yaml (src/core/config-sections/nplusone.ts, docs/nplusone.md). */
export type NPlusOneConfig = Config['nplusone']

/** The section's defaults, read from the schema: the one place they are written. */
export const NPLUSONE_DEFAULTS: NPlusOneConfig = configSchema.shape.nplusone.parse(undefined)

/** Flag values, already parsed at the edge (durations in ms); each wins over its config key. */
export interface NPlusOneFlagValues {
  /** Added to the config's list, not instead of it. */
  ignore?: readonly string[] | undefined
  minRepeats?: number | undefined
  minTotalMs?: number | undefined
  idleGapMs?: number | undefined
  maxOccurrences?: number | undefined
  showParams?: boolean | undefined
  logLinePrefix?: string | undefined
}

/**
 * Detector and reader options from the `nplusone` config section with the flags on top (flags
 * win; ignore lists add up). Keys the config leaves out take the section's defaults.
 */
export function nplusoneOptions(
  flags: NPlusOneFlagValues = {},
  config: Partial<NPlusOneConfig> = {},
): NPlusOneOptions & { prefix: string } {
  const section = { ...NPLUSONE_DEFAULTS, ...config }
  return {
    ignore: [...section.ignore, ...(flags.ignore ?? [])],
    minRepeats: flags.minRepeats ?? section.minRepeats,
    minTotalMs: flags.minTotalMs ?? parseDuration(section.minTotal, 'nplusone.minTotal'),
    idleGapMs: flags.idleGapMs ?? parseDuration(section.idleGap, 'nplusone.idleGap'),
    maxOccurrences: flags.maxOccurrences ?? section.maxOccurrences,
    showParams: flags.showParams ?? false,
    prefix: flags.logLinePrefix ?? section.logLinePrefix,
  }
}
