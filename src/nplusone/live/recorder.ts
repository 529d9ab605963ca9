import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { dirname } from 'node:path'
import { NPlusOneDetector } from '../detect.js'
import { loadQueryParser } from '../identity.js'
import { toServiceLogRecord } from '../sources/service-log.js'
import type { NPlusOneOptions, NPlusOnePattern, QueryExecution } from '../types.js'

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
  /** Flushes and closes the file. */
  close(): Promise<void>
  readonly path: string
}

/**
 * Appends one JSON line per execution to `path` (directories are created): the query log
 * `opsctl db nplusone --service-log FILE` and `opsctl db top --service-log FILE` read.
 * Parameter values are left out unless `includeParams`.
 */
export function createJsonLinesSink(path: string, options: { includeParams?: boolean } = {}): JsonLinesSink {
  mkdirSync(dirname(path), { recursive: true })
  const stream: WriteStream = createWriteStream(path, { flags: 'a' })
  let failed = false
  stream.on('error', () => {
    // A full disk must not take the service down: stop writing.
    failed = true
  })
  const includeParams = options.includeParams ?? false
  return {
    path,
    write: (execution) => {
      if (failed || stream.writableEnded) return
      stream.write(`${JSON.stringify(toServiceLogRecord(execution, includeParams))}\n`)
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.writableEnded || failed) return resolve()
        stream.end(() => resolve())
      }),
  }
}
