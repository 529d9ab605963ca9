/**
 * Flags that parse at the edge: a command receives milliseconds, bytes and fractions, never the
 * text "30s", so modules take numbers and never parse flag text themselves. A value that does not
 * parse is bad usage (exit 2), named by its flag. Defaults are not given here: they live in the
 * config schema (or the module's options), and help text says them once.
 */
import { Flags } from '@oclif/core'
import { parseDuration, parsePercent, parseSize } from '../core/index.js'

/** A duration: `250ms`, `30s`, `10m`; a bare number is milliseconds. Parsed to milliseconds. */
export const durationFlag = Flags.custom<number>({
  helpValue: '<duration>',
  parse: async (input, _context, options) => parseDuration(input, `--${options.name}`),
})

/** A size: `64kB`, `1.5GB`. Parsed to bytes. */
export const sizeFlag = Flags.custom<number>({
  helpValue: '<size>',
  parse: async (input, _context, options) => parseSize(input, `--${options.name}`),
})

/** A percentage: `25%` (or a fraction, `0.25`). Parsed to a fraction in 0..1. */
export const percentFlag = Flags.custom<number>({
  helpValue: '<percent>',
  parse: async (input, _context, options) => parsePercent(input, `--${options.name}`),
})

/** The database flag of every command that opens one: the config key database.url, DATABASE_URL, this flag. */
export const databaseFlags = {
  'database-url': Flags.string({
    description: 'PostgreSQL to use instead of the embedded database (or DATABASE_URL).',
    env: 'DATABASE_URL',
  }),
}

/** Pairs with databaseFlags in a command's `configFlags`. */
export const databaseConfigFlags = { 'database-url': 'database.url' } as const
