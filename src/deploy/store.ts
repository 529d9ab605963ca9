/**
 * Where rollouts live between processes: `.opsctl/deploy/<rollout>.json` (the state, rewritten
 * atomically: a temporary file, fsync, rename), `<rollout>.lock` (the controller: pid, host, a
 * token; refreshed while it runs) and `<rollout>.instructions.jsonl` (promote, pause, resume,
 * abort, rollback asked from other terminals, one JSON line each, appended; the controller
 * applies them in order and counts how many it has seen in the state).
 *
 * Why files and not the PostgreSQL journal's database: a rollout is driven from one host (the one
 * that reaches the router or HAProxy's socket), and the state must survive the journal being
 * unreachable. The journal gets every event; the state file is the controller's memory.
 */
import { randomBytes } from 'node:crypto'
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { OpsError, ExitCode, JsonSyntaxError, badInput, environmentError, isProcessAlive, parseJsonText } from '../core/index.js'
import { ROLLOUT_KIND, isTerminal, type Rollout } from './rollout.js'

export interface DeployPaths {
  dir: string
  state(id: string): string
  lock(id: string): string
  instructions(id: string): string
}

export function deployPaths(stateDir: string): DeployPaths {
  const dir = join(stateDir, 'deploy')
  return {
    dir,
    state: (id) => join(dir, `${id}.json`),
    lock: (id) => join(dir, `${id}.lock`),
    instructions: (id) => join(dir, `${id}.instructions.jsonl`),
  }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}-\d{1,9}$/
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

export function checkServiceName(name: string, source = '--service'): string {
  if (!SERVICE_NAME.test(name))
    throw badInput(`${source}: "${name}" is not a valid service name: letters, digits, '.', '_' or '-', at most 63 characters`)
  return name
}

export function checkRolloutId(id: string): string {
  if (!ID.test(id))
    throw badInput(`"${id}" is not a rollout id (they read service-N, e.g. api-3)`, 'List them with opsctl deploy status --all.')
  return id
}

/** Creates the state file of a new rollout `<service>-<n>` (exclusively: two starts never get the same id). */
export function createRollout<R extends Rollout>(paths: DeployPaths, service: string, build: (id: string) => R): R {
  mkdirSync(paths.dir, { recursive: true })
  const taken = listRolloutIds(paths)
    .filter((id) => id.slice(0, id.lastIndexOf('-')) === service)
    .map((id) => Number(id.slice(id.lastIndexOf('-') + 1)))
  let n = Math.max(0, ...taken) + 1
  for (;;) {
    const rollout = build(`${service}-${n}`)
    try {
      const fd = openSync(paths.state(rollout.id), 'wx', 0o644)
      try {
        writeSync(fd, `${JSON.stringify(rollout, null, 2)}\n`)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      return rollout
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw environmentError(`Cannot create ${paths.state(rollout.id)}: ${(error as Error).message}`)
      n++
    }
  }
}

export function saveRollout(paths: DeployPaths, rollout: Rollout): void {
  const file = paths.state(rollout.id)
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    mkdirSync(paths.dir, { recursive: true })
    const fd = openSync(temporary, 'wx', 0o644)
    try {
      writeSync(fd, `${JSON.stringify(rollout, null, 2)}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, file)
  } catch (error) {
    quietly(() => unlinkSync(temporary))
    throw environmentError(
      `Cannot save the rollout state ${file}: ${(error as Error).message}`,
      'Check the permissions and free space of the state directory.',
    )
  }
}

export function readRollout(paths: DeployPaths, id: string): Rollout {
  checkRolloutId(id)
  const file = paths.state(id)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const known = listRolloutIds(paths)
      throw badInput(
        `Unknown rollout "${id}"${known.length ? ` (known: ${known.slice(-10).join(', ')})` : ' (no rollouts yet)'}`,
        'List them with opsctl deploy status --all, or opsctl deploy history.',
      )
    }
    throw environmentError(`Cannot read ${file}: ${(error as Error).message}`)
  }
  try {
    const value = parseJsonText(text).value as unknown as Rollout
    if (
      typeof value !== 'object' ||
      value === null ||
      (value as { kind?: unknown }).kind !== ROLLOUT_KIND ||
      typeof value.status !== 'string'
    )
      throw new OpsError(`${file} is not a rollout state file`, { exit: ExitCode.BadInput })
    return value
  } catch (error) {
    if (error instanceof JsonSyntaxError)
      throw badInput(`${file}: ${error.message}`, 'The file is damaged; remove it to forget the rollout (the journal keeps its events).')
    throw error
  }
}

export function listRolloutIds(paths: DeployPaths): string[] {
  let names: string[]
  try {
    names = readdirSync(paths.dir)
  } catch {
    return []
  }
  return names
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .filter((id) => ID.test(id))
    .sort((a, b) => {
      const [sa, na] = [a.slice(0, a.lastIndexOf('-')), Number(a.slice(a.lastIndexOf('-') + 1))]
      const [sb, nb] = [b.slice(0, b.lastIndexOf('-')), Number(b.slice(b.lastIndexOf('-') + 1))]
      return sa === sb ? na - nb : sa < sb ? -1 : 1
    })
}

export function listRollouts(paths: DeployPaths): Rollout[] {
  const rollouts: Rollout[] = []
  for (const id of listRolloutIds(paths)) {
    try {
      rollouts.push(readRollout(paths, id))
    } catch {
      // a damaged state file is reported when asked for by id
    }
  }
  return rollouts
}

/** Rollouts not yet finished (pending, progressing, paused, promoting, rolling back). */
export function activeRollouts(paths: DeployPaths): Rollout[] {
  return listRollouts(paths).filter((rollout) => !isTerminal(rollout.status))
}

/** One rollout of a service at a time: a second start is refused while the first is not finished. */
export function refuseSecondRollout(paths: DeployPaths, service: string): void {
  const running = activeRollouts(paths).find((rollout) => rollout.service === service)
  if (running)
    throw badInput(
      `Rollout ${running.id} of ${service} is ${running.status}: one rollout of a service at a time`,
      `Finish it first: opsctl deploy status|promote|abort ${running.id} (or opsctl deploy resume ${running.id}).`,
    )
}

// --- the controller's lock ------------------------------------------------------------------

export interface LockHolder {
  pid: number
  host: string
  token: string
  since: string
}

export interface RolloutLock {
  holder: LockHolder
  /** Refreshes the lock's time, so that a controller on another host is not judged dead. */
  heartbeat(): void
  release(): void
}

const HOST = hostname()
/** A lock of another host not refreshed for this long belongs to a dead controller. */
export const LOCK_STALE_MS = 60_000

/** Who holds a rollout's lock, and whether that process still runs. */
export function inspectLock(paths: DeployPaths, id: string): { holder: LockHolder | undefined; alive: boolean; raw: string } | undefined {
  const file = paths.lock(id)
  let raw: string
  let mtimeMs: number
  try {
    raw = readFileSync(file, 'utf8')
    mtimeMs = statSync(file).mtimeMs
  } catch {
    return undefined
  }
  let holder: LockHolder | undefined
  try {
    const parsed = JSON.parse(raw) as Partial<LockHolder>
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.token === 'string')
      holder = { pid: parsed.pid, host: parsed.host, token: parsed.token, since: String(parsed.since ?? '') }
  } catch {
    holder = undefined
  }
  // On this host the pid says it all; elsewhere (or a lock torn before its pid was written), its age.
  const alive = holder?.host === HOST ? isProcessAlive(holder.pid) : Date.now() - mtimeMs < LOCK_STALE_MS
  return { holder, alive, raw }
}

/**
 * Takes the rollout's lock, or refuses (exit 3) when a live controller holds it. A dead
 * controller's lock (its pid gone on this host, or not refreshed for a minute elsewhere) is taken
 * over: renamed aside, checked to be the one judged dead, and replaced.
 */
export function acquireRolloutLock(paths: DeployPaths, id: string): RolloutLock {
  mkdirSync(paths.dir, { recursive: true })
  const holder: LockHolder = { pid: process.pid, host: HOST, token: randomBytes(8).toString('hex'), since: new Date().toISOString() }
  const file = paths.lock(id)
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644)
      try {
        writeSync(fd, JSON.stringify(holder))
      } finally {
        closeSync(fd)
      }
      return {
        holder,
        heartbeat: () => quietly(() => utimesSync(file, new Date(), new Date())),
        release: () => {
          const current = inspectLock(paths, id)
          if (current?.holder?.token === holder.token) quietly(() => unlinkSync(file))
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw environmentError(`Cannot create the lock ${file}: ${(error as Error).message}`)
    }
    const current = inspectLock(paths, id)
    if (!current) continue // released meanwhile
    if (current.alive) throw controllerRunning(id, current.holder)
    breakLock(file, current.raw, holder.token)
  }
  throw environmentError(`Cannot take the lock ${file}: other processes keep taking it`)
}

export function controllerRunning(id: string, holder: LockHolder | undefined): OpsError {
  return environmentError(
    `Rollout ${id} is already controlled by ${holder ? `process ${holder.pid} on ${holder.host} (since ${holder.since})` : 'another process'}`,
    `Act on it from here with opsctl deploy status|promote|pause|abort ${id}; a second controller is refused.`,
  )
}

function breakLock(file: string, judged: string, token: string): void {
  const aside = `${file}.${token}.stale`
  try {
    renameSync(file, aside)
  } catch {
    return
  }
  if (quietly(() => readFileSync(aside, 'utf8')) !== judged) quietly(() => linkSync(aside, file)) // a fresh lock: put it back
  quietly(() => unlinkSync(aside))
}

// --- instructions from other terminals ------------------------------------------------------

export type InstructionAction = 'promote' | 'pause' | 'resume' | 'abort' | 'rollback'

export interface Instruction {
  action: InstructionAction
  reason?: string
  /** promote: straight to 100%. */
  full?: boolean
  at: string
  pid: number
}

export function appendInstruction(paths: DeployPaths, id: string, instruction: Instruction): void {
  try {
    // One short O_APPEND write: lines from several terminals never interleave.
    appendFileSync(paths.instructions(id), `${JSON.stringify(instruction)}\n`, { mode: 0o644 })
  } catch (error) {
    throw environmentError(`Cannot write to ${paths.instructions(id)}: ${(error as Error).message}`)
  }
}

/** Instructions from the `from`-th on (0-based); a torn or unreadable line counts, as nothing. */
export function readInstructions(paths: DeployPaths, id: string, from: number): Array<Instruction | undefined> {
  const file = paths.instructions(id)
  if (!existsSync(file)) return []
  const text = quietly(() => readFileSync(file, 'utf8')) ?? ''
  const lines = text.split('\n')
  lines.pop() // after the last newline: nothing, or a line still being written
  return lines.slice(from).map((line) => {
    try {
      const parsed = JSON.parse(line) as Instruction
      return ['promote', 'pause', 'resume', 'abort', 'rollback'].includes(parsed.action) ? parsed : undefined
    } catch {
      return undefined
    }
  })
}

function quietly<T>(action: () => T): T | undefined {
  try {
    return action()
  } catch {
    return undefined
  }
}
