import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { migrate, seed } from '../../reference-service/src/index.js'

/** A pool whose every statement (pool.query and transaction clients alike) is recorded. */
export function recordingPool(url: string): { pool: pg.Pool; statements: string[] } {
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  const statements: string[] = []
  // pool.query checks out a client too, so wrapping each new client's query sees everything once.
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0]
      statements.push(typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? ''))
      return query(...args)
    }
  })
  return { pool, statements }
}

export async function seededPool(url: string, scale = 0.01): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  await migrate(pool)
  await seed(pool, { scale })
  return pool
}

export interface ServerProcess {
  child: ChildProcess
  url: string
  port: number
  /** Every stdout line so far, parsed when it is JSON (pino). */
  logs: Array<Record<string, unknown>>
  /** Resolves once the process has exited and its output is fully read. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  waitForLog(predicate: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>
}

/** Starts reference-service/src/server.ts through tsx and waits for its "listening" line. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'reference-service/src/server.ts'], {
    cwd: new URL('../../', import.meta.url),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Array<Record<string, unknown>> = []
  const waiters: Array<{ predicate: (entry: Record<string, unknown>) => boolean; resolve: (entry: Record<string, unknown>) => void }> = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line) as Record<string, unknown>
    } catch {
      entry = { text: line }
    }
    logs.push(entry)
    for (const waiter of [...waiters]) {
      if (waiter.predicate(entry)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(entry)
      }
    }
  })
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  const waitForLog = (predicate: (entry: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = logs.find(predicate)
      if (seen) return resolve(seen)
      waiters.push({ predicate, resolve })
      void closed.then(({ code }) =>
        reject(new Error(`server exited with ${code} before the expected log line:\n${stderr}\n${JSON.stringify(logs.slice(-5))}`)),
      )
    })
  const listening = await waitForLog((entry) => entry.msg === 'listening')
  return { child, url: String(listening.url), port: Number(listening.port), logs, closed, waitForLog }
}
