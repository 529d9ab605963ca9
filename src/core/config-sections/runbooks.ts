import { z } from 'zod'

export const runbooksSection = z
  .strictObject({
    dirs: z.array(z.string()).default([]).describe('Directories of runbooks that add to and override the shipped ones.'),
  })
  .default({ dirs: [] })
  .describe('Incident runbooks.')
