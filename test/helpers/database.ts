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
      drop: () => dropDatabase(name),
    }
  }
  if (requireAll()) throw new Error(`OPSCTL_REQUIRE_ALL=1 but no PostgreSQL server is reachable at ${SERVER_URL}`)
  process.stderr.write(`[fallback] no PostgreSQL server at ${SERVER_URL}; using embedded PGlite for ${prefix}\n`)
  const server = await startEmbeddedServer({ dataDir: 'memory://' })
  return { url: server.url, kind: 'embedded', drop: () => server.stop() }
}

/**
 * Waits (up to 2 s) for the test's own connections to finish closing before forcing the rest:
 * pg's Pool#end resolves before its clients' sockets are closed, and a backend terminated by
 * WITH (FORCE) in that moment sends its FATAL to a client with no error listener left, an
 * uncaught exception in the test process (seen once in a full run).
 */
async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL })
  await client.connect()
  try {
    for (let attempt = 0; attempt < 40; attempt++) {
      const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1', [
        name,
      ])
      if (rows[0]!.count === 0) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  } finally {
    await client.end()
  }
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
