import { z } from 'zod'

export const serviceSection = z
  .strictObject({
    name: z.string().min(1).default('reference').describe('Name of the service opsctl operates on.'),
    url: z.url().optional().describe('Base URL of the running service, e.g. http://127.0.0.1:3000.'),
  })
  .default({ name: 'reference' })
  .describe('The service under operation.')
