import { z } from 'zod'

const defaults = {
  ignore: [] as string[],
  minRepeats: 5,
  minTotal: '0ms',
  idleGap: '50ms',
  maxOccurrences: 100,
  logLinePrefix: '%m [%p] %q%u@%d ',
}

export const nplusoneSection = z
  .strictObject({
    ignore: z.array(z.string()).default(defaults.ignore).describe('Fingerprints (16 hex digits) or SQL globs of accepted N+1 patterns.'),
    minRepeats: z
      .number()
      .int()
      .min(2)
      .default(defaults.minRepeats)
      .describe('Executions of one statement in one unit of work that make an N+1.'),
    minTotal: z.string().default(defaults.minTotal).describe('Minimum total time of the repeats in one unit, e.g. 5ms.'),
    idleGap: z.string().default(defaults.idleGap).describe('Pause that ends a unit of work in a database session (server logs).'),
    maxOccurrences: z
      .number()
      .int()
      .min(0)
      .default(defaults.maxOccurrences)
      .describe('Occurrences (units of work) listed per pattern, those with the most repeats first; the rest are counted.'),
    logLinePrefix: z
      .string()
      .min(1)
      .default(defaults.logLinePrefix)
      .describe("log_line_prefix of stderr server logs, as SHOW log_line_prefix prints it (Debian's and Ubuntu's by default)."),
  })
  .default(defaults)
  .describe('N+1 query detection (opsctl db nplusone, db top).')
