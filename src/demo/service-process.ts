import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { OpsError, ExitCode } from '../core/index.js'

export interface ServiceProcessOptions {
  databaseUrl: string
  port: number
  env?: NodeJS.ProcessEnv
  /** How long to wait for the "listening" line. */
  startTimeoutMs?: number
  /** Node arguments that start the service (default: referenceServiceCommand()). */
  command?: string[]
}

export interface ServiceProcess {
  url: string
  port: number
  pid: number
  /** SIGTERM, then wait for a graceful exit (the service finishes in-flight requests). */
  stop(): Promise<number | null>
  exited: Promise<number | null>
}

/** The compiled entry when running from dist/, else the TypeScript source through tsx. */
export function referenceServiceCommand(): string[] {
  const compiled = fileURLToPath(new URL('../../reference-service/src/server.js', import.meta.url))
  // Source maps: the live hook's call sites then name the TypeScript lines.
  if (existsSync(compiled)) return ['--enable-source-maps', compiled]
  const source = fileURLToPath(new URL('../../reference-service/src/server.ts', import.meta.url))
  return ['--import', import.meta.resolve('tsx/esm'), source]
}

/** Starts the reference service as a child process and resolves once it listens. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, options.command ?? referenceServiceCommand(), {
    env: { ...process.env, ...options.env, DATABASE_URL: options.databaseUrl, PORT: String(options.port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stderrTail: string[] = []
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail.push(chunk.toString())
    if (stderrTail.length > 20) stderrTail.shift()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const port = await waitForListening(child, exited, options.startTimeoutMs ?? 60_000, stderrTail)
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    exited,
    async stop() {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGTERM')
      return exited
    },
  }
}

function waitForListening(child: ChildProcess, exited: Promise<number | null>, timeoutMs: number, stderrTail: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new OpsError(`The reference service did not start listening within ${timeoutMs / 1000}s`, { exit: ExitCode.Environment }))
    }, timeoutMs)
    lines.on('line', (line) => {
      const port = listeningPort(line)
      if (port === undefined) return
      clearTimeout(timer)
      lines.removeAllListeners('line')
      lines.on('line', () => {}) // keep draining its logs
      resolve(port)
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(
        new OpsError(
          `The reference service exited with code ${code} before listening:\n${stderrTail.join('').trim().split('\n').slice(-10).join('\n')}`,
          {
            exit: ExitCode.Environment,
            hint: 'Check the database URL and that the port is free (--port 0 picks one).',
          },
        ),
      )
    })
  })
}

/** The port from the service's pino "listening" log line, if this is that line. */
export function listeningPort(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const entry = JSON.parse(line) as { msg?: string; port?: unknown }
    return entry.msg === 'listening' && typeof entry.port === 'number' ? entry.port : undefined
  } catch {
    return undefined
  }
}
