import { z } from 'zod'
import { defineEvents, eventFields } from '../journal/index.js'

const { text } = eventFields

export const flagEvents = defineEvents('flag', {
  changed: {
    description: 'A feature flag was created, toggled, re-targeted or deleted.',
    data: z.looseObject({ flag: text, change: text, from: z.unknown().optional(), to: z.unknown().optional() }),
    summary: (d) =>
      `${d.flag} ${d.change}${typeof d.environment === 'string' ? ` in ${d.environment}` : ''}` +
      `${d.to === undefined ? '' : `: ${JSON.stringify(d.from ?? null)} -> ${JSON.stringify(d.to)}`}` +
      `${typeof d.reason === 'string' ? ` (${d.reason})` : ''}`,
  },
})
