import { z } from 'zod'

export const journalSection = z
  .strictObject({
    url: z.string().optional().describe('PostgreSQL URL of a shared journal; without it, files under .opsctl/journal.'),
    dir: z.string().optional().describe('Directory of the file journal (default .opsctl/journal).'),
    durable: z.boolean().default(true).describe('Flush every append to disk before reporting success. false trades durability for speed.'),
    segmentSize: z.string().default('64MB').describe('Size at which a journal segment file rotates, e.g. 64MB.'),
  })
  .default({ durable: true, segmentSize: '64MB' })
  .describe('The ops journal.')
