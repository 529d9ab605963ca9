// The writer thread of the live hook's JSON-lines sink (createJsonLinesSink): it encodes the
// batches the service's thread hands over and appends them to the query log, so that the
// service's own thread does no more per statement than copy a few fields.
import { parentPort, workerData } from 'node:worker_threads'
import { QueryLogEncoder, writeFully } from './query-log-encoder.js'
import type { QueryLogBatch } from './query-log-batch.js'

/** From the sink to this thread. */
export type WriterRequest = { kind: 'batch'; batch: QueryLogBatch } | { kind: 'close' }
/** From this thread to the sink: loaded and listening, executions lost to a failed write, and all written. */
export type WriterReply = { kind: 'ready' } | { kind: 'failed'; count: number; message: string } | { kind: 'drained' }

export interface WriterData {
  /** Opened for appending by the sink, so that a bad path fails where the sink is created. */
  fd: number
  /** Executions written or given up on so far (modulo 2^32), shared with the sink. */
  done: Int32Array
}

const { fd, done } = workerData as WriterData
const port = parentPort!
const encoder = new QueryLogEncoder()
let failure: string | undefined

port.on('message', (request: WriterRequest) => {
  if (request.kind === 'close') {
    // Everything before it is written; the sink closes the file it opened.
    port.postMessage({ kind: 'drained' } satisfies WriterReply)
    port.close()
    return
  }
  const { count } = request.batch
  if (failure === undefined) {
    try {
      writeFully(fd, encoder.encode(request.batch))
    } catch (error) {
      // A full disk must not take the service down: stop writing, and say how much was lost.
      failure = (error as Error).message
    }
  }
  if (failure !== undefined) port.postMessage({ kind: 'failed', count, message: failure } satisfies WriterReply)
  Atomics.add(done, 0, count)
})

port.postMessage({ kind: 'ready' } satisfies WriterReply)
