import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { ExitCode } from '../../src/core/index.js'
import { openDatabase } from '../../src/db/index.js'
import { SERVER_URL, isServerReachable } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { makeTempDir } from '../helpers/temp.js'

const stateDir = makeTempDir('opsctl-db-')
const closers: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const close of closers.reverse()) await close()
})

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  try {
    return (await pool.query<T>(sql)).rows
  } finally {
    await pool.end()
  }
}

describe('openDatabase: the embedded default', () => {
  it('serves PGlite over the wire protocol to a pg Pool with concurrent clients, and persists across restarts', async () => {
    const first = await openDatabase({ stateDir })
    expect(first.kind).toBe('embedded')
    const pool = new pg.Pool({ connectionString: first.url, max: 5 })
    await pool.query('CREATE TABLE kept (n int)')
    // Several clients at once, each inside its own transaction.
    await Promise.all(
      [1, 2, 3, 4, 5].map(async (n) => {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query('INSERT INTO kept VALUES ($1)', [n])
          await client.query('COMMIT')
        } finally {
          client.release()
        }
      }),
    )
    await pool.end()
    await first.close()

    const second = await openDatabase({ stateDir })
    closers.push(second.close)
    const rows = await query<{ total: string }>(second.url, 'SELECT sum(n)::text AS total FROM kept')
    expect(rows[0]!.total).toBe('15')
  })

  it('shares the embedded server another process (here: handle) already runs on the same state directory', async () => {
    const sharedDir = makeTempDir('opsctl-db-shared-')
    const owner = await openDatabase({ stateDir: sharedDir })
    closers.push(owner.close)
    const messages: string[] = []
    const guest = await openDatabase({ stateDir: sharedDir, log: (m) => messages.push(m) })
    expect(guest.url).toBe(owner.url)
    expect(messages.join()).toMatch(/already served by process/)
  })
})

describe('the embedded server under concurrency', () => {
  it('keeps transactions and parameterised queries of concurrent connections apart', async () => {
    const handle = await openDatabase({ stateDir: makeTempDir('opsctl-db-mux-') })
    closers.push(handle.close)
    const pool = new pg.Pool({ connectionString: handle.url, max: 4 })
    await pool.query('CREATE TABLE mux (id int PRIMARY KEY)')
    const partial: number[] = []
    for (let round = 0; round < 15; round++) {
      const writer = (async () => {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query('INSERT INTO mux VALUES ($1)', [round])
          await new Promise((resolve) => setTimeout(resolve, 5))
          await client.query('INSERT INTO mux VALUES ($1)', [round + 1000])
          await client.query(round % 2 ? 'ROLLBACK' : 'COMMIT')
        } finally {
          client.release()
        }
      })()
      const readers = Array.from({ length: 5 }, async () => {
        const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM mux WHERE id = $1 OR id = $2', [
          round,
          round + 1000,
        ])
        expect(rows).toHaveLength(1)
        if (rows[0]!.n === 1) partial.push(round)
      })
      await Promise.all([writer, ...readers])
    }
    await pool.end()
    expect(partial).toEqual([])
  })
})

describe('openDatabase: concurrent starts', () => {
  it('starts one embedded server when two openers race on the same state directory', async () => {
    const dir = makeTempDir('opsctl-db-race-')
    const [a, b] = await Promise.all([openDatabase({ stateDir: dir }), openDatabase({ stateDir: dir })])
    closers.push(a.close, b.close)
    expect(a.url).toBe(b.url)
    expect((await query<{ one: number }>(a.url, 'SELECT 1 AS one'))[0]!.one).toBe(1)
  })
})

describe('openDatabase: a real server', () => {
  it('connects to DATABASE_URL', async () => {
    if (!requireOrSkip(await isServerReachable(), `no PostgreSQL server at ${SERVER_URL}`)) return
    const handle = await openDatabase({ url: SERVER_URL, stateDir })
    expect(handle.kind).toBe('server')
    expect(handle.description).toMatch(/^PostgreSQL at 127\.0\.0\.1:5432\/postgres$/)
  })

  it('reports an unreachable server as an environment error (exit 3) without the password', async () => {
    const error = await openDatabase({ url: 'postgres://app:hunter2@127.0.0.1:1/app', stateDir }).catch((e: unknown) => e)
    expect(error).toMatchObject({ exit: ExitCode.Environment })
    expect(String((error as Error).message)).not.toContain('hunter2')
    expect((error as Error).message).toMatch(/Cannot connect to PostgreSQL at 127\.0\.0\.1:1\/app/)
  })
})
