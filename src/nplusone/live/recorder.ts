import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname, extname } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { NPlusOneDetector } from '../detect.js'
import { loadQueryParser } from '../identity.js'
import { QueryLogBatcher, transferablesOf, type QueryLogBatch } from './query-log-batch.js'
import { QueryLogEncoder, writeFully } from './query-log-encoder.js'
import type { WriterData, WriterReply, WriterRequest } from './query-log-writer.js'
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
  /** Writes what is buffered and closes the file. */
  close(): Promise<void>
  readonly path: string
  /** Executions dropped because the disk fell behind or failed; the service itself never waits. */
  readonly dropped: number
}

/**
 * A batch is handed to the writer thread when this many executions wait, or FLUSH_INTERVAL_MS
 * after the first of them. Each hand-over has a fixed cost (tens of microseconds), so batches
 * are big: a service that runs thousands of statements a second hands over a few times a second.
 */
const FLUSH_EXECUTIONS = 4096
const FLUSH_INTERVAL_MS = 1000
/** How long close() waits for a writer thread that has not started yet. */
const WRITER_START_TIMEOUT_MS = 5000
/** Beyond this many executions not yet written, new ones are dropped (and counted) rather than held in memory. */
const MAX_UNWRITTEN = 100_000

/**
 * The writer thread: the compiled module in the built package; under the TypeScript sources
 * (tests, bin/dev.js) the .ts module, behind tsx's loader, which a worker does not inherit.
 * Without the service's Node flags: a worker would otherwise run its preloads again (an
 * OpenTelemetry SDK started with --import, say).
 */
function startWriter(data: WriterData): Worker {
  const options = { workerData: data, execArgv: [] }
  if (extname(fileURLToPath(import.meta.url)) === '.js') return new Worker(new URL('./query-log-writer.js', import.meta.url), options)
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href
  const writer = new URL('./query-log-writer.ts', import.meta.url).href
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(writer)}) })`, {
    ...options,
    eval: true,
  })
}

/**
 * Appends one JSON line per execution to `path` (directories are created): the query log
 * `opsctl db nplusone --service-log FILE` and `opsctl db top --service-log FILE` read.
 * Parameter values are left out unless `includeParams`.
 *
 * On the query path an execution's fields are only copied into a batch. Every FLUSH_EXECUTIONS
 * executions or FLUSH_INTERVAL_MS the batch goes to a writer thread (its numbers transferred,
 * not copied), which encodes and appends it, as pino's transports do: encoding on the service's
 * own thread cost it about as much as the rest of the hook. The thread does not keep the process
 * alive. A crash loses at most the last FLUSH_INTERVAL_MS of records; close() writes everything.
 *
 * Batches wait until the thread says it is ready. If it cannot start (its module does not load),
 * they are written on the service's own thread instead, slower but nothing lost, and `onError`
 * says so; a write the disk refuses drops the records from then on, counted and said once.
 */
export function createJsonLinesSink(
  path: string,
  options: { includeParams?: boolean; onError?: (message: string) => void } = {},
): JsonLinesSink {
  mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(path, 'a')
  const batcher = new QueryLogBatcher(options.includeParams ?? false)
  // The writer counts what it has written (or given up on) here rather than in a reply per batch,
  // which the service's thread would have to handle. Counts wrap at 2^32; differences do not.
  const done = new Int32Array(new SharedArrayBuffer(4))
  const writer = startWriter({ fd, done })
  /** starting: batches wait in `waiting`; thread: handed over; inline: encoded and written here. */
  let mode: 'starting' | 'thread' | 'inline' = 'starting'
  const waiting: QueryLogBatch[] = []
  let waitingCount = 0
  let inlineEncoder: QueryLogEncoder | undefined
  let handedOver = 0
  /** Executions handed to the writer, or waiting for it, and not yet written. */
  const inFlight = () => ((handedOver - Atomics.load(done, 0)) >>> 0) + waitingCount
  let timer: NodeJS.Timeout | undefined
  let closing: Promise<void> | undefined
  let failed = false
  let dropped = 0
  const report = (message: string) => {
    try {
      options.onError?.(message)
    } catch {
      // a reporter that fails must not take the query path with it
    }
  }
  const fail = (count: number, message: string) => {
    dropped += count
    if (failed) return
    failed = true
    report(`The query log ${path} stopped: ${message}. Later records are dropped and counted.`)
  }

  const handOver = (batch: QueryLogBatch) => {
    handedOver = (handedOver + batch.count) >>> 0
    writer.postMessage({ kind: 'batch', batch } satisfies WriterRequest, transferablesOf(batch))
  }
  const writeHere = (batch: QueryLogBatch) => {
    if (failed) return void (dropped += batch.count)
    try {
      writeFully(fd, (inlineEncoder ??= new QueryLogEncoder()).encode(batch))
    } catch (error) {
      fail(batch.count, (error as Error).message)
    }
  }
  const settle = (next: 'thread' | 'inline') => {
    if (mode !== 'starting') return
    mode = next
    const batches = waiting.splice(0)
    waitingCount = 0
    for (const batch of batches) (next === 'thread' ? handOver : writeHere)(batch)
  }

  const writerGone = new Promise<void>((resolve) => writer.once('exit', () => resolve()))
  const settled = new Promise<void>((resolve) => {
    writer.on('message', (reply: WriterReply) => {
      if (reply.kind === 'ready') {
        settle('thread')
        resolve()
      } else if (reply.kind === 'failed') fail(reply.count, reply.message)
    })
    writer.on('error', (error) => {
      if (mode === 'starting') {
        report(`The query log's writer thread did not start (${error.message}); writing on the service's thread.`)
        settle('inline')
      } else if (mode === 'thread') {
        // The thread died while writing: what it held is lost, and what comes would be too.
        const lost = inFlight() + batcher.size
        Atomics.store(done, 0, handedOver | 0)
        batcher.take()
        fail(lost, `its writer thread failed (${error.message})`)
      }
      resolve()
    })
    void writerGone.then(() => {
      // gone without an error, before it was ready: nothing can be handed over any more
      settle('inline')
      resolve()
    })
  })
  // After the listeners: adding a 'message' listener refs the worker again.
  writer.unref()

  const flush = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (batcher.size === 0) return
    const batch = batcher.take()
    if (failed) dropped += batch.count
    else if (mode === 'thread') handOver(batch)
    else if (mode === 'inline') writeHere(batch)
    else {
      waiting.push(batch)
      waitingCount += batch.count
    }
  }
  const schedule = (): void => {
    if (!timer) timer = setTimeout(flush, FLUSH_INTERVAL_MS).unref()
  }

  return {
    path,
    get dropped() {
      return dropped
    },
    write: (execution) => {
      if (closing) return
      if (failed || inFlight() + batcher.size >= MAX_UNWRITTEN) {
        dropped++
        return
      }
      batcher.append(execution)
      if (batcher.size >= FLUSH_EXECUTIONS) flush()
      else schedule()
    },
    close() {
      closing ??= (async () => {
        flush()
        // Held open until the writer has started (or failed to) and written everything.
        writer.ref()
        // a thread that has not started by now is not going to: what waits is written here
        let patience: NodeJS.Timeout | undefined
        await Promise.race([settled, new Promise<void>((resolve) => (patience = setTimeout(resolve, WRITER_START_TIMEOUT_MS)))])
        clearTimeout(patience)
        if (mode === 'starting') {
          report(`The query log's writer thread had not started after ${WRITER_START_TIMEOUT_MS / 1000}s; writing on the service's thread.`)
          settle('inline')
        }
        if (mode === 'thread') {
          const written = new Promise<void>((resolve) =>
            writer.on('message', (reply: WriterReply) => reply.kind === 'drained' && resolve()),
          )
          writer.postMessage({ kind: 'close' } satisfies WriterRequest)
          await Promise.race([written, writerGone])
        }
        await writer.terminate()
        closeSync(fd)
      })()
      return closing
    },
  }
}
