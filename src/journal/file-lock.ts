import { randomBytes } from 'node:crypto'
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { environmentError } from '../core/index.js'

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
    await release(path, token)
  }
}

async function acquire(path: string, timeoutMs: number, staleMs: number): Promise<string> {
  const token = randomBytes(8).toString('hex')
  const content = JSON.stringify({ pid: process.pid, host, token, since: new Date().toISOString() } satisfies Holder & { since: string })
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx')
      try {
        await handle.writeFile(content)
      } finally {
        await handle.close()
      }
      return token
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(path, error)
    }
    const holder = await inspect(path)
    if (holder && isStale(holder, staleMs)) {
      await breakLock(path, holder, token)
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

async function inspect(path: string): Promise<Inspected | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    return { owner: parseHolder(raw), mtimeMs: info.mtimeMs, raw }
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

async function breakLock(path: string, stale: Inspected, token: string): Promise<void> {
  const aside = `${path}.${token}.stale`
  try {
    await rename(path, aside)
  } catch {
    return // someone else broke or released it
  }
  const taken = await readFile(aside, 'utf8').catch(() => '')
  if (taken !== stale.raw) {
    // We moved a fresh lock that another process had just taken: put it back if the slot is free.
    await link(aside, path).catch(() => {})
  }
  await unlink(aside).catch(() => {})
}

async function release(path: string, token: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => '')
  // Never remove a lock that is no longer ours (broken as stale while we held it).
  if (parseHolder(current)?.token === token) await unlink(path).catch(() => {})
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

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function lockError(path: string, error: unknown) {
  return environmentError(`Cannot create the journal lock ${path}: ${(error as Error).message}`, 'Check that the journal directory exists and is writable.', error)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
