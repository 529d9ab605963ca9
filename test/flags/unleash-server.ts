import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

/**
 * A real unleash-server (npm package, 6.x), installed outside the project's dependencies by
 * .ci/install-unleash.sh into OPSCTL_UNLEASH_DIR (default ~/.cache/opsctl/unleash-server), run as
 * a child process on a free loopback port against a throwaway database on the local PostgreSQL.
 */
export function unleashServerModule(): string {
  return join(process.env.OPSCTL_UNLEASH_DIR ?? join(homedir(), '.cache', 'opsctl', 'unleash-server'), 'node_modules', 'unleash-server')
}

export function isUnleashServerInstalled(): boolean {
  return existsSync(join(unleashServerModule(), 'package.json'))
}

export interface UnleashServer {
  /** The API root SDKs and the Admin-API driver take: http://127.0.0.1:PORT/api */
  url: string
  adminToken: string
  /** Client tokens by environment (development, production). */
  clientTokens: Record<string, string>
  /** The Admin API, for setting up fixtures the driver does not create. */
  admin(method: string, path: string, body?: unknown): Promise<unknown>
  stop(): Promise<void>
}

export async function startUnleashServer(): Promise<UnleashServer> {
  const database: TestDatabase = await createTestDatabase('unleash')
  const port = await freePort()
  const secret = () => randomBytes(16).toString('hex')
  const adminToken = `*:*.${secret()}`
  const clientTokens = { development: `*:development.${secret()}`, production: `*:production.${secret()}` }
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(unleashServerModule())}).start({ db: { ssl: false }, server: { port: ${port}, host: '127.0.0.1' } }).catch((e) => { console.error(e); process.exit(1) })`,
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: database.url,
        DATABASE_SSL: 'false',
        INIT_ADMIN_API_TOKENS: adminToken,
        INIT_CLIENT_API_TOKENS: Object.values(clientTokens).join(','),
        CHECK_VERSION: 'false',
        SEND_TELEMETRY: 'false',
        LOG_LEVEL: 'error',
        NODE_NO_WARNINGS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)))
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let gone = false
  void exited.then(() => (gone = true))

  const url = `http://127.0.0.1:${port}/api`
  const stop = async () => {
    if (!gone) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await database.drop()
  }
  try {
    // Migrations on a fresh database take a few seconds; give it a minute.
    for (let attempt = 0; ; attempt++) {
      if (gone) throw new Error(`unleash-server exited before it was ready:\n${output}`)
      if (attempt > 600) throw new Error(`unleash-server was not ready after a minute:\n${output}`)
      const healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
        (response) => response.ok,
        () => false,
      )
      if (healthy) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } catch (error) {
    await stop()
    throw error
  }

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/admin${path}`, {
      method,
      headers: { authorization: adminToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
    return text ? (JSON.parse(text) as unknown) : undefined
  }
  return { url, adminToken, clientTokens, admin, stop }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
