/**
 * pg_stat_statements: in a throwaway cluster started with it in shared_preload_libraries (the
 * shared server is never reconfigured), and on the shared server where the extension can be
 * created but its library is not loaded.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { takeActivitySnapshot, type ActivityOptions } from '../../src/activity/collect.js'
import { createTestDatabase, isServerReachable } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { hasPostgresBinaries, startCluster, type Cluster } from './servers.js'

const OPTIONS: ActivityOptions = {
  thresholds: { idleInTransactionMs: 60_000, longQueryMs: 60_000, lockWaitMs: 1000, nearMaxConnections: 0.8 },
  limit: 5,
}
const binaries = requireOrSkip(hasPostgresBinaries(), 'PostgreSQL 15 server binaries (initdb, pg_ctl) are not installed')
const serverAvailable = requireOrSkip(await isServerReachable(), 'no PostgreSQL server reachable for the pg_stat_statements hint test')
const role = `opsctl_activity_stats_${randomBytes(3).toString('hex')}`

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

describe.runIf(binaries)('top statements from pg_stat_statements', { timeout: 300_000 }, () => {
  let cluster: Cluster

  beforeAll(async () => {
    cluster = await startCluster({ shared_preload_libraries: 'pg_stat_statements' })
    await withClient(cluster.url, async (client) => {
      await client.query('CREATE EXTENSION pg_stat_statements')
      await client.query('CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total int NOT NULL)')
      await client.query("INSERT INTO orders (customer, total) SELECT 'customer-' || g, g FROM generate_series(1, 5000) g")
      await client.query('SELECT pg_stat_statements_reset()')
      for (let i = 0; i < 30; i++) await client.query(`SELECT count(*) FROM orders WHERE customer = 'secret-customer-${i}'`)
      for (let i = 0; i < 5; i++) await client.query(`UPDATE orders SET total = total + ${i} WHERE id = ${i + 1}`)
      await client.query(`CREATE ROLE ${role} LOGIN`)
    })
  })

  afterAll(() => cluster?.stop())

  it('lists statements by total time since the reset, normalised, with calls, mean, share and hit ratio', async () => {
    const snapshot = await takeActivitySnapshot({ url: cluster.url, kind: 'server', description: 'the throwaway cluster' }, OPTIONS)
    const { statements } = snapshot
    expect(statements.available).toBe(true)
    expect(Date.parse(statements.since!)).toBeGreaterThan(Date.now() - 600_000)
    const select = statements.rows.find((row) => row.query?.startsWith('SELECT count(*) FROM orders WHERE customer = $1'))!
    expect(select).toMatchObject({ calls: 30, rows: 30 })
    expect(select.totalMs).toBeGreaterThan(0)
    expect(select.meanMs).toBeCloseTo(select.totalMs / 30, 5)
    expect(select.share).toBeGreaterThan(0)
    expect(select.share).toBeLessThanOrEqual(1)
    expect(select.hitRatio).not.toBeNull()
    expect(statements.rows.length).toBeLessThanOrEqual(5)
    expect(statements.rows.map((row) => row.totalMs)).toEqual([...statements.rows.map((row) => row.totalMs)].sort((a, b) => b - a))
    expect(JSON.stringify(snapshot)).not.toContain('secret-customer')
  })

  it("a role without pg_read_all_stats sees other roles' statements as hidden, and is told so", async () => {
    const url = new URL(cluster.url)
    url.username = role
    const snapshot = await takeActivitySnapshot({ url: url.toString(), kind: 'server', description: 'the throwaway cluster' }, OPTIONS)
    expect(snapshot.statements.available).toBe(true)
    expect(snapshot.statements.rows.some((row) => row.query === null)).toBe(true)
    expect(snapshot.unavailable).toContainEqual(
      expect.objectContaining({
        what: expect.stringMatching(/^the text of \d+ of the top statements$/),
        hint: `GRANT pg_read_all_stats TO ${role};`,
      }),
    )
  })
})

describe.runIf(serverAvailable)('without pg_stat_statements', { timeout: 120_000 }, () => {
  it('says it is not installed, and how to enable it', async () => {
    const db = await createTestDatabase('activity_nostats')
    try {
      const snapshot = await takeActivitySnapshot({ url: db.url, kind: 'server', description: 'test' }, OPTIONS)
      expect(snapshot.statements).toMatchObject({
        available: false,
        reason: expect.stringMatching(/^pg_stat_statements is not installed in database opsctl_/),
      })
      expect(snapshot.statements.hint).toMatch(/shared_preload_libraries|CREATE EXTENSION pg_stat_statements/)

      // Created in this database only, but its library is not loaded on the shared server: the view cannot be read.
      await withClient(db.url, (client) => client.query('CREATE EXTENSION pg_stat_statements'))
      const unloaded = await takeActivitySnapshot({ url: db.url, kind: 'server', description: 'test' }, OPTIONS)
      expect(unloaded.statements).toMatchObject({ available: false, reason: expect.stringContaining('shared_preload_libraries') })
      expect(unloaded.statements.hint).toMatch(/^Add pg_stat_statements to shared_preload_libraries/)
    } finally {
      await db.drop()
    }
  })
})
