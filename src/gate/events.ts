import { z } from 'zod'
import { defineEvents } from '../journal/index.js'

export const gateEvents = defineEvents('gate', {
  verdict: {
    description: 'The CI gate decided on a change: pass, fail, inconclusive or invalid measurement, with the checks that did not pass.',
    data: z.looseObject({
      verdict: z.enum(['pass', 'fail', 'inconclusive', 'invalid']),
      failed: z.array(z.string()).optional(),
      mode: z.enum(['check', 'update-baseline']).optional(),
      checks: z
        .array(z.looseObject({ name: z.string(), type: z.string(), status: z.enum(['pass', 'fail', 'inconclusive', 'invalid']) }))
        .optional(),
    }),
    summary: (d) =>
      `${d.verdict}${d.mode === 'update-baseline' ? ' (baselines updated)' : ''}${d.failed?.length ? ` (${d.failed.join(', ')})` : ''}`,
  },
})
