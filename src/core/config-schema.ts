import { z } from 'zod'

/**
 * The shape of opsctl.yaml. Every section is strict so that a misspelled key is refused,
 * and every leaf can be overridden by an OPSCTL_* variable derived from its path
 * (journal.url -> OPSCTL_JOURNAL_URL, journal.segmentSize -> OPSCTL_JOURNAL_SEGMENT_SIZE).
 */
export const configSchema = z
  .strictObject({
    service: z
      .strictObject({
        name: z.string().min(1).default('reference').describe('Name of the service opsctl operates on.'),
        url: z.url().optional().describe('Base URL of the running service, e.g. http://127.0.0.1:3000.'),
      })
      .default({ name: 'reference' })
      .describe('The service under operation.'),
    database: z
      .strictObject({
        url: z
          .string()
          .optional()
          .describe('PostgreSQL connection URL. Without it (and without DATABASE_URL), the embedded PGlite database is used.'),
        embeddedPort: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(0)
          .describe('Port of the embedded database server on 127.0.0.1; 0 picks a free port.'),
      })
      .default({ embeddedPort: 0 })
      .describe('The PostgreSQL database opsctl analyses and the reference service uses.'),
    journal: z
      .strictObject({
        url: z.string().optional().describe('PostgreSQL URL of a shared journal; without it, files under .opsctl/journal.'),
        dir: z.string().optional().describe('Directory of the file journal (default .opsctl/journal).'),
        durable: z
          .boolean()
          .default(true)
          .describe('Flush every append to disk before reporting success. false trades durability for speed.'),
        segmentSize: z.string().default('64MB').describe('Size at which a journal segment file rotates, e.g. 64MB.'),
      })
      .default({ durable: true, segmentSize: '64MB' })
      .describe('The ops journal.'),
    flags: z
      .strictObject({
        file: z.string().default('flags.yaml').describe('flags.yaml, relative to opsctl.yaml.'),
        host: z.string().default('127.0.0.1').describe('Address opsctl flags serve listens on.'),
        port: z.number().int().min(0).max(65535).default(4242).describe('Port of opsctl flags serve; 0 picks a free one.'),
        clientTokens: z
          .array(z.string())
          .default([])
          .describe('Client API tokens (project:environment.secret); default: generated once in .opsctl/flags/tokens.json.'),
        frontendTokens: z.array(z.string()).default([]).describe('Frontend API tokens (project:environment.secret).'),
      })
      .default({ file: 'flags.yaml', host: '127.0.0.1', port: 4242, clientTokens: [], frontendTokens: [] })
      .describe('Feature flags: flags as code served over the Unleash APIs.'),
    nplusone: z
      .strictObject({
        ignore: z.array(z.string()).default([]).describe('Fingerprints (16 hex digits) or SQL globs of accepted N+1 patterns.'),
        minRepeats: z.number().int().min(2).default(5).describe('Executions of one statement in one unit of work that make an N+1.'),
        minTotal: z.string().default('0ms').describe('Minimum total time of the repeats in one unit, e.g. 5ms.'),
        idleGap: z.string().default('50ms').describe('Pause that ends a unit of work in a database session (server logs).'),
      })
      .default({ ignore: [], minRepeats: 5, minTotal: '0ms', idleGap: '50ms' })
      .describe('N+1 query detection (opsctl db nplusone).'),
    runbooks: z
      .strictObject({
        dirs: z.array(z.string()).default([]).describe('Directories of runbooks that add to and override the shipped ones.'),
      })
      .default({ dirs: [] })
      .describe('Incident runbooks.'),
  })
  .describe('opsctl configuration (opsctl.yaml).')

export type Config = z.infer<typeof configSchema>

export function configJsonSchema(): Record<string, unknown> {
  return {
    title: 'opsctl.yaml',
    ...z.toJSONSchema(configSchema, { io: 'input' }),
  }
}
