import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { canConnect } from '../../src/db/probe.js'
import { startEmbeddedServer } from '../../src/db/embedded.js'
import { requireAll } from './requirements.js'

export const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface TestDatabase {
  url: string
  kind: 'server' | 'embedded'
  drop(): Promise<void>
}

let serverReachable: Promise<boolean> | undefined

export function isServerReachable(): Promise<boolean> {
  serverReachable ??= canConnect(SERVER_URL)
  return serverReachable
}

/**
 * A throwaway database for one test file: created on the PostgreSQL server at DATABASE_URL
 * (the local server by default) and dropped afterwards. Without a reachable server it falls
 * back to an in-memory embedded PGlite and says so; in CI (OPSCTL_REQUIRE_ALL=1) that is an error.
 */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  if (await isServerReachable()) {
    const name = `opsctl_${prefix.replace(/\W/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`
    await adminQuery(`CREATE DATABASE ${name}`)
    const url = new URL(SERVER_URL)
    url.pathname = `/${name}`
    return {
      url: url.toString(),
      kind: 'server',
      drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    }
  }
  if (requireAll()) throw new Error(`OPSCTL_REQUIRE_ALL=1 but no PostgreSQL server is reachable at ${SERVER_URL}`)
  process.stderr.write(`[fallback] no PostgreSQL server at ${SERVER_URL}; using embedded PGlite for ${prefix}\n`)
  const server = await startEmbeddedServer({ dataDir: 'memory://' })
  return { url: server.url, kind: 'embedded', drop: () => server.stop() }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
