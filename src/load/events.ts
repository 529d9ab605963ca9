import { z } from 'zod'
import { defineEvents, eventFields } from '../journal/index.js'

const { text, optional } = eventFields

export const loadEvents = defineEvents('load', {
  run: {
    description: 'A load test ran against the service.',
    data: z.looseObject({ scenario: text, requests: z.number().int().min(0).optional(), p99Ms: z.number().min(0).optional() }),
    summary: (d) =>
      `${d.scenario}${optional('', d.requests === undefined ? undefined : `${d.requests} requests`)}${optional('p99 ', d.p99Ms === undefined ? undefined : `${d.p99Ms}ms`)}`,
  },
})
