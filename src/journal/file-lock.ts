import { randomBytes } from 'node:crypto'
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { environmentError, isProcessAlive } from '../core/index.js'

/**
 * An advisory lock between processes appending to one file journal: a lock file created with
 * O_CREAT|O_EXCL ('wx'), holding the owner's pid, host and a random token; removed on release.
 * Node has no flock(2), and this works on every local file system and on NFSv3+.
 *
 * A crashed holder leaves the file behind. It is stale when its pid is gone on this host, or,
 * for a holder on another host, when it is older than `staleMs`. A stale lock is
 * broken by renaming it aside and checking that what was renamed is the lock that was judged
 * stale; if another process took the lock in between, it is put back.
 *
 * The lock is a second line of defence: every append is one O_APPEND write, which Linux does
 * not interleave with other writers' writes, so lines stay whole even if two processes ever
 * held the lock at once. The lock makes segment rotation and the "skip ids already present"
 * check of `journal copy` exact.
 */
export interface FileLockOptions {
  timeoutMs?: number
  staleMs?: number
}

interface Holder {
  pid: number
  host: string
  token: string
}

const host = hostname()

export async function withFileLock<T>(path: string, action: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const token = await acquire(path, options.timeoutMs ?? 30_000, options.staleMs ?? 30_000)
  try {
    return await action()
  } finally {
    release(path, token)
  }
}

// Taking and releasing the lock use synchronous calls: each is a few microseconds, and the
// lock is held for less time than a round trip through libuv's thread pool would take.
async function acquire(path: string, timeoutMs: number, staleMs: number): Promise<string> {
  const token = randomBytes(8).toString('hex')
  const content = JSON.stringify({ pid: process.pid, host, token, since: new Date().toISOString() } satisfies Holder & { since: string })
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      try {
        writeSync(fd, content)
      } finally {
        closeSync(fd)
      }
      return token
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(path, error)
    }
    const holder = inspect(path)
    if (holder && isStale(holder, staleMs)) {
      breakLock(path, holder, token)
      continue
    }
    if (Date.now() > deadline) {
      throw environmentError(
        `The journal lock ${path} has been held for more than ${Math.round(timeoutMs / 1000)}s${holder?.owner ? ` by process ${holder.owner.pid} on ${holder.owner.host}` : ''}`,
        `If no opsctl process is running, remove ${path}.`,
      )
    }
    // Exponential backoff with jitter, capped low: appends hold the lock for milliseconds.
    await sleep(Math.min(50, 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()))
  }
}

interface Inspected {
  owner: Holder | undefined
  mtimeMs: number
  raw: string
}

function inspect(path: string): Inspected | undefined {
  try {
    const raw = readFileSync(path, 'utf8')
    return { owner: parseHolder(raw), mtimeMs: statSync(path).mtimeMs, raw }
  } catch {
    return undefined // released meanwhile
  }
}

function isStale(holder: Inspected, staleMs: number): boolean {
  // On this host the pid says it all; a holder elsewhere (or one that died between creating the
  // file and writing its pid) is judged by age.
  if (holder.owner?.host === host) return !isProcessAlive(holder.owner.pid)
  return Date.now() - holder.mtimeMs > staleMs
}

function breakLock(path: string, stale: Inspected, token: string): void {
  const aside = `${path}.${token}.stale`
  try {
    renameSync(path, aside)
  } catch {
    return // someone else broke or released it
  }
  if (quietly(() => readFileSync(aside, 'utf8')) !== stale.raw) {
    // We moved a fresh lock that another process had just taken: put it back if the slot is free.
    quietly(() => linkSync(aside, path))
  }
  quietly(() => unlinkSync(aside))
}

function release(path: string, token: string): void {
  // Never remove a lock that is no longer ours (broken as stale while we held it).
  if (parseHolder(quietly(() => readFileSync(path, 'utf8')) ?? '')?.token === token) quietly(() => unlinkSync(path))
}

function quietly<T>(action: () => T): T | undefined {
  try {
    return action()
  } catch {
    return undefined
  }
}

function parseHolder(raw: string): Holder | undefined {
  try {
    const value = JSON.parse(raw) as Partial<Holder>
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') return value as Holder
  } catch {
    // empty or partial: treated as young
  }
  return undefined
}

function lockError(path: string, error: unknown) {
  return environmentError(
    `Cannot create the journal lock ${path}: ${(error as Error).message}`,
    'Check that the journal directory exists and is writable.',
    error,
  )
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
