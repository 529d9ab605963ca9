import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TestServer {
  url: string
  port: number
  /** Requests received, by path. */
  paths: string[]
  close(): Promise<void>
}

/**
 * A tiny server on 127.0.0.1 that answers after `delayMs`; `status(n)` picks the status of the
 * n-th request (1-based), `body` the answer. Every test stops the servers it starts.
 */
export async function startTestServer(
  options: { delayMs?: number; status?: (n: number) => number; body?: (request: http.IncomingMessage, text: string) => string } = {},
): Promise<TestServer> {
  let count = 0
  const paths: string[] = []
  const server = http.createServer((request, response) => {
    const n = ++count
    let text = ''
    request.on('data', (chunk: Buffer) => (text += chunk.toString()))
    request.on('end', () => {
      paths.push(request.url ?? '')
      const answer = () => {
        response.statusCode = options.status?.(n) ?? 200
        response.setHeader('content-type', 'application/json')
        response.end(options.body?.(request, text) ?? '{"ok":true}')
      }
      if (options.delayMs) setTimeout(answer, options.delayMs)
      else answer()
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * The same server in a child process, for tests that run the CLI synchronously (runCli blocks
 * this process's event loop, so a server in it could not answer).
 */
export async function startServerProcess(options: {
  delayMs: number
  errorEvery?: number
}): Promise<{ url: string; close(): Promise<void> }> {
  const { spawn } = await import('node:child_process')
  const script = `
    const http = require('node:http')
    let n = 0
    const server = http.createServer((request, response) => {
      const i = ++n
      request.resume()
      setTimeout(() => { response.statusCode = ${options.errorEvery ?? 0} && i % ${options.errorEvery ?? 1} === 0 ? 500 : 200; response.end('{"ok":true}') }, ${options.delayMs})
    })
    server.keepAliveTimeout = 60000
    server.listen(0, '127.0.0.1', () => console.log(server.address().port))
    process.on('SIGTERM', () => process.exit(0))
  `
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
    child.once('exit', (code) => reject(new Error(`test server exited with ${code}`)))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
