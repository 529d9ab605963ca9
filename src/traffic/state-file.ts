/**
 * What the router keeps in .opsctl/router/ so that a restart mid-rollout loses nothing:
 * - state.json: backends, routes, weights and admin states, rewritten (atomically) on every change;
 * - token: the admin token (mode 600), generated once unless given;
 * - running.json: where the running router listens (removed when it stops), for the other commands.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { badInput, isProcessAlive, parseJsonText } from '../core/index.js'
import type { Topology } from './topology.js'

export interface RouterPaths {
  dir: string
  state: string
  token: string
  running: string
}

export function routerPaths(stateDir: string): RouterPaths {
  const dir = join(stateDir, 'router')
  return { dir, state: join(dir, 'state.json'), token: join(dir, 'token'), running: join(dir, 'running.json') }
}

const adminState = z.enum(['ready', 'drain', 'maint'])

const stateFileSchema = z.strictObject({
  version: z.literal(1),
  savedAt: z.string(),
  backends: z.array(z.strictObject({ name: z.string(), pool: z.string(), url: z.string() })),
  routes: z.array(z.strictObject({ prefix: z.string(), pool: z.string() })),
  weights: z.record(z.string(), z.record(z.string(), z.number())),
  states: z.record(z.string(), adminState),
})

export type SavedState = z.infer<typeof stateFileSchema>

export function stateFileText(topology: Topology, now: Date): string {
  const saved: SavedState = { version: 1, savedAt: now.toISOString(), ...topology }
  return `${JSON.stringify(saved, null, 2)}\n`
}

/** The saved state, or undefined when there is none. A damaged file is bad input naming the file. */
export function readStateFile(file: string): SavedState | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  let value: unknown
  try {
    value = parseJsonText(text).value
  } catch (error) {
    throw badInput(`${file}: ${(error as Error).message}`, 'Fix it, or start the router with --reset to ignore the saved state.')
  }
  const parsed = stateFileSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw badInput(
      `${file} is not a router state file: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      'Start the router with --reset to ignore it.',
    )
  }
  return parsed.data
}

/** Writes beside the target and renames over it: a crash leaves the old state or the new one. */
export function writeFileAtomicSync(file: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    writeFileSync(temporary, text, { mode })
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url')
}

/** The admin token: given, else read from the token file, else generated into it (mode 600). */
export function resolveToken(given: string | undefined, file: string): { token: string; source: 'given' | 'file' | 'generated' } {
  if (given !== undefined && given !== '') {
    if (given.length < 16) throw badInput('The router admin token must be at least 16 characters long')
    return { token: given, source: 'given' }
  }
  const saved = readTokenFile(file)
  if (saved) return { token: saved, source: 'file' }
  const token = generateToken()
  writeFileAtomicSync(file, `${token}\n`, 0o600)
  return { token, source: 'generated' }
}

export function readTokenFile(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim()
    return text === '' ? undefined : text
  } catch {
    return undefined
  }
}

const runningSchema = z.object({ pid: z.number(), url: z.string(), adminUrl: z.string(), startedAt: z.string() })
export type RunningRouter = z.infer<typeof runningSchema>

export function writeRunningFile(file: string, running: RunningRouter): void {
  writeFileAtomicSync(file, `${JSON.stringify(running, null, 2)}\n`)
}

/** The router started from this state directory, if its process is still alive. */
export function readRunningFile(file: string): RunningRouter | undefined {
  try {
    const parsed = runningSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')))
    return parsed.success && isProcessAlive(parsed.data.pid) ? parsed.data : undefined
  } catch {
    return undefined
  }
}
