import { z } from 'zod'
import { defineEvents, eventFields } from '../journal/index.js'

const { text, optional } = eventFields

export const profileEvents = defineEvents('profile', {
  run: {
    description: 'A CPU profile was captured.',
    data: z.looseObject({ target: text, durationMs: z.number().min(0).optional(), top: z.string().optional() }),
    summary: (d) => `${d.target}${optional('top: ', d.top)}`,
  },
})
