import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const AUTOCANNON = `${ROOT}node_modules/.bin/autocannon`

export interface AutocannonResult {
  requests: { total: number }
  errors: number
  timeouts: number
  non2xx: number
  '2xx': number
  statusCodeStats?: Record<string, { count: number }>
}

/** Real autocannon in a process of its own (the test's event loop stays free for the servers it hosts). */
export function runAutocannon(
  url: string,
  options: {
    connections: number
    seconds: number
    headers?: string[]
    /** Requests per second over all connections (open model). */ rate?: number
  },
): {
  child: ChildProcess
  result: Promise<AutocannonResult>
} {
  const args = [
    '-c',
    String(options.connections),
    '-d',
    String(options.seconds),
    '--json',
    ...(options.rate ? ['-R', String(options.rate)] : []),
    ...(options.headers ?? []).flatMap((header) => ['-H', header]),
    url,
  ]
  const child = spawn(AUTOCANNON, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const result = once(child, 'close').then(([code]) => {
    if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr}`)
    return JSON.parse(stdout) as AutocannonResult
  })
  return { child, result }
}

export interface FixtureServer {
  name: string
  url: string
  port: number
  requests: number
  server: Server
  close(): Promise<void>
}

/** A small server answering its own name, with a delay (ms) per request. */
export async function startFixture(name: string, delayMs = 0): Promise<FixtureServer> {
  const fixture: FixtureServer = {
    name,
    url: '',
    port: 0,
    requests: 0,
    server: createServer((request, response) => {
      request.resume()
      if (request.url !== '/healthz') fixture.requests++
      const answer = () => {
        response.setHeader('x-version', name)
        response.end(name)
      }
      if (delayMs > 0 && request.url !== '/healthz') setTimeout(answer, delayMs)
      else answer()
    }),
    close: () =>
      new Promise<void>((resolve) => {
        fixture.server.closeAllConnections()
        fixture.server.close(() => resolve())
      }),
  }
  fixture.server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => fixture.server.listen(0, '127.0.0.1', resolve))
  fixture.port = (fixture.server.address() as AddressInfo).port
  fixture.url = `http://127.0.0.1:${fixture.port}`
  return fixture
}

export function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const closed = once(child, 'exit').then(() => undefined)
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  return closed.finally(() => clearTimeout(timer))
}
