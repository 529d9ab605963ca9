import { z } from 'zod'

export const flagsSection = z
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
  .describe('Feature flags: flags as code served over the Unleash APIs.')
