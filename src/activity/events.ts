import { z } from 'zod'
import { defineEvents, eventFields } from '../journal/index.js'

const { optional } = eventFields

/** Who the signalled session belonged to and what it ran (normalised: no parameter values). */
const signalData = z.looseObject({
  pid: z.number().int().positive(),
  role: z.string().optional(),
  application: z.string().optional(),
  database: z.string().optional(),
  state: z.string().optional(),
  query: z.string().optional(),
  /** false when the server found no such backend any more (it ended first). */
  signalled: z.boolean(),
})

const target = (d: z.infer<typeof signalData>) =>
  `session ${d.pid}${optional('of ', d.role)}${d.application ? ` (${d.application})` : ''}${d.signalled ? '' : ': it had already ended'}`

/** `db activity cancel` and `terminate`: a person stopped someone's work on the database, on the record. */
export const activityEvents = defineEvents('db', {
  cancel: {
    description: "A session's running statement was cancelled (pg_cancel_backend).",
    data: signalData,
    summary: (d) => `cancelled the statement of ${target(d)}`,
  },
  terminate: {
    description: 'A database session was terminated and its transaction rolled back (pg_terminate_backend).',
    data: signalData,
    summary: (d) => `terminated ${target(d)}`,
  },
})
