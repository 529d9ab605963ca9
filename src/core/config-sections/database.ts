import { z } from 'zod'

export const databaseSection = z
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
  .describe('The PostgreSQL database opsctl analyses and the reference service uses.')
