/**
 * API tokens of `flags serve`, per environment, in Unleash's format `project:environment.secret`
 * so that an SDK configured for Unleash takes them unchanged. Client tokens read the client API
 * (flag definitions, for server-side SDKs); frontend tokens read the frontend API (evaluated
 * results, safe to ship to browsers).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { badInput } from '../core/index.js'
import { writeFileAtomic } from './atomic-file.js'

export type TokenType = 'client' | 'frontend'

/** Per environment, the token of each API. */
export interface FlagTokens {
  client: Record<string, string>
  frontend: Record<string, string>
}

const TOKEN_PATTERN = /^([^:\s]+):([A-Za-z0-9][A-Za-z0-9_-]*)\.(\S{8,})$/

/** `*:development.3f9a...` -> its environment; refuses anything else. */
export function tokenEnvironment(token: string, what = 'token'): string {
  const match = TOKEN_PATTERN.exec(token)
  if (!match)
    throw badInput(
      `A ${what} must look like Unleash's project:environment.secret (a secret of 8 characters or more), e.g. *:development.<secret>`,
    )
  return match[2]!
}

export function generateToken(environment: string): string {
  return `*:${environment}.${randomBytes(24).toString('hex')}`
}

/** Tokens given as lists (flags, config) -> per environment; one token per environment and API. */
export function tokensFromLists(client: readonly string[], frontend: readonly string[]): FlagTokens {
  const tokens: FlagTokens = { client: {}, frontend: {} }
  for (const [type, list] of [
    ['client', client],
    ['frontend', frontend],
  ] as const) {
    for (const token of list) {
      const environment = tokenEnvironment(token, `${type} token`)
      if (tokens[type][environment]) throw badInput(`Two ${type} tokens for ${environment}; give one per environment`)
      tokens[type][environment] = token
    }
  }
  return tokens
}

/** Fills in a token for every environment that has none; true when it added any. */
export function completeTokens(tokens: FlagTokens, environments: readonly string[]): boolean {
  let added = false
  for (const environment of environments) {
    for (const type of ['client', 'frontend'] as const) {
      if (tokens[type][environment]) continue
      tokens[type][environment] = generateToken(environment)
      added = true
    }
  }
  return added
}

const tokensFileSchema = z.object({ client: z.record(z.string(), z.string()), frontend: z.record(z.string(), z.string()) })

export function readTokensFile(file: string): FlagTokens | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const parsed = tokensFileSchema.safeParse(JSON.parse(text))
  if (!parsed.success)
    throw badInput(`${file} is not a tokens file of opsctl flags serve`, 'Delete it: new tokens are generated on the next start.')
  return parsed.data
}

/** Readable by its owner only: these are the keys to the flags. */
export function writeTokensFile(file: string, tokens: FlagTokens): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 })
}

/** Which environment and API a presented token opens, if any. */
export function findToken(tokens: FlagTokens, presented: string): { environment: string; type: TokenType } | undefined {
  const given = Buffer.from(presented)
  for (const type of ['client', 'frontend'] as const) {
    for (const [environment, token] of Object.entries(tokens[type])) {
      const known = Buffer.from(token)
      if (known.length === given.length && timingSafeEqual(known, given)) return { environment, type }
    }
  }
  return undefined
}
