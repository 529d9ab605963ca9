import { closeSync, mkdirSync, openSync, write } from 'node:fs'
import { promisify } from 'node:util'
import { dirname } from 'node:path'
import { NPlusOneDetector } from '../detect.js'
import { loadQueryParser } from '../identity.js'
import { serviceLogLine } from '../sources/service-log.js'
import type { NPlusOneOptions, NPlusOnePattern, QueryExecution } from '../types.js'

const fsWrite = promisify(write)

export interface QueryRecorder {
  /** Pass as `onExecution` to instrumentPg. */
  readonly onExecution: (execution: QueryExecution) => void
  /** The executions kept (the most recent `limit`). */
  executions(): QueryExecution[]
  clear(): void
  /** The N+1 patterns among the kept executions. */
  patterns(options?: NPlusOneOptions): Promise<NPlusOnePattern[]>
}

/** Keeps the last `limit` executions in memory (default 100,000), for tests, demos and debug endpoints. */
export function createQueryRecorder(options: { limit?: number } = {}): QueryRecorder {
  const limit = options.limit ?? 100_000
  let kept: QueryExecution[] = []
  return {
    onExecution: (execution) => {
      kept.push(execution)
      if (kept.length > limit * 1.5) kept = kept.slice(-limit)
    },
    executions: () => kept.slice(-limit),
    clear: () => {
      kept = []
    },
    async patterns(detectorOptions = {}) {
      await loadQueryParser()
      const detector = new NPlusOneDetector(detectorOptions)
      for (const execution of kept.slice(-limit)) detector.add(execution)
      return detector.finish().patterns
    },
  }
}

export interface JsonLinesSink {
  /** Pass as `onExecution` to instrumentPg. */
  readonly write: (execution: QueryExecution) => void
  /** Writes what is buffered and closes the file. */
  close(): Promise<void>
  readonly path: string
  /** Records dropped because the disk fell behind or failed; the service itself never waits. */
  readonly dropped: number
}

/** Buffered executions are written when this many wait, or after FLUSH_INTERVAL_MS. */
const FLUSH_EXECUTIONS = 512
const FLUSH_INTERVAL_MS = 100
/** Beyond this many unwritten executions, new ones are dropped (and counted) rather than held in memory. */
const MAX_BUFFERED = 100_000

/**
 * Appends one JSON line per execution to `path` (directories are created): the query log
 * `opsctl db nplusone --service-log FILE` and `opsctl db top --service-log FILE` read.
 * Parameter values are left out unless `includeParams`.
 *
 * On the query path an execution is only queued; lines are built and written in batches, one
 * asynchronous write at a time, because a line and a write per statement cost the service
 * several times more CPU than the same work done in a tight loop. A crash loses at most the
 * last FLUSH_INTERVAL_MS of records; close() writes everything.
 */
export function createJsonLinesSink(path: string, options: { includeParams?: boolean } = {}): JsonLinesSink {
  mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(path, 'a')
  const includeParams = options.includeParams ?? false
  let queued: QueryExecution[] = []
  let writing: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false
  let failed = false
  let dropped = 0

  const take = (): Buffer => {
    const batch = queued
    queued = []
    let text = ''
    for (const execution of batch) text += serviceLogLine(execution, includeParams)
    return Buffer.from(text)
  }
  const flush = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (writing || queued.length === 0 || failed) return
    writing = writeFully(fd, take()).then(
      () => {
        writing = undefined
        if (queued.length >= FLUSH_EXECUTIONS) flush()
        else if (queued.length > 0) schedule()
      },
      () => {
        // A full disk must not take the service down: stop writing.
        failed = true
        writing = undefined
      },
    )
  }
  const schedule = (): void => {
    if (!timer && !closed) timer = setTimeout(flush, FLUSH_INTERVAL_MS).unref()
  }

  return {
    path,
    get dropped() {
      return dropped
    },
    write: (execution) => {
      if (closed) return
      if (failed || queued.length >= MAX_BUFFERED) {
        dropped++
        return
      }
      queued.push(execution)
      if (queued.length >= FLUSH_EXECUTIONS) flush()
      else schedule()
    },
    async close() {
      if (closed) return
      closed = true
      if (timer) clearTimeout(timer)
      timer = undefined
      while (writing) await writing
      if (!failed && queued.length > 0) await writeFully(fd, take()).catch(() => {})
      closeSync(fd)
    },
  }
}

/** fs.write may write less than asked (a signal, a nearly full disk): write the rest. */
async function writeFully(fd: number, chunk: Buffer): Promise<void> {
  let offset = 0
  while (offset < chunk.length) {
    const { bytesWritten } = await fsWrite(fd, chunk, offset, chunk.length - offset)
    offset += bytesWritten
  }
}
