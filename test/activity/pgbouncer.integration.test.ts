/**
 * PgBouncer's SHOW POOLS through a real PgBouncer (Debian package pgbouncer) in front of the local
 * server, in transaction mode with one server connection per pool, so that clients queue.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { takeActivitySnapshot, type ActivityOptions } from '../../src/activity/collect.js'
import type { ActivitySnapshot } from '../../src/activity/model.js'
import { createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { hasPgBouncer, startPgBouncer, type Bouncer } from './servers.js'

const available =
  requireOrSkip(await isServerReachable(), 'no PostgreSQL server reachable for the PgBouncer test') &&
  requireOrSkip(hasPgBouncer(), 'pgbouncer is not installed (Debian: pgbouncer)')

describe.runIf(available)('PgBouncer pools', { timeout: 300_000 }, () => {
  let db: TestDatabase
  let bouncer: Bouncer
  const name = () => new URL(db.url).pathname.slice(1)

  beforeAll(async () => {
    db = await createTestDatabase('activity_pgbouncer')
    bouncer = await startPgBouncer({ pool_mode: 'transaction', default_pool_size: 1, max_client_conn: 50 })
  })

  afterAll(async () => {
    await bouncer?.stop()
    await db?.drop()
  })

  it('reads SHOW POOLS, and clients waiting for a server connection are a finding', async () => {
    const clients = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const client = new pg.Client({ connectionString: bouncer.urlFor(name()) })
        client.on('error', () => {})
        await client.connect()
        return client
      }),
    )
    const options: ActivityOptions = {
      thresholds: { idleInTransactionMs: 60_000, longQueryMs: 60_000, lockWaitMs: 1000, nearMaxConnections: 0.8 },
      limit: 5,
      pgbouncerUrl: bouncer.adminUrl,
    }
    const sleeping = clients.map((client) => client.query('SELECT pg_sleep(3)'))
    try {
      let snapshot: ActivitySnapshot | undefined
      for (let attempt = 0; attempt < 40; attempt++) {
        snapshot = await takeActivitySnapshot({ url: db.url, kind: 'server', description: 'test' }, options)
        if (snapshot.pgbouncer?.some((pool) => pool.database === name() && pool.clientsWaiting >= 2)) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const pool = snapshot!.pgbouncer!.find((candidate) => candidate.database === name())!
      expect(pool).toMatchObject({ user: 'postgres', clientsWaiting: 2, serversActive: 1, poolMode: 'transaction' })
      expect(snapshot!.pgbouncer!.map((candidate) => candidate.database)).not.toContain('pgbouncer')
      const finding = snapshot!.findings.find((candidate) => candidate.kind === 'pgbouncer-waiting')!
      expect(finding.message).toMatch(
        new RegExp(
          `^PgBouncer pool ${name()}/postgres has 2 clients waiting \\(oldest [^)]+\\) with 1 server connection active and 0 idle \\(transaction mode\\)\\.$`,
        ),
      )
      expect(finding.advice).toMatch(/^Raise default_pool_size/)
    } finally {
      await Promise.allSettled(sleeping)
      await Promise.all(clients.map((client) => client.end().catch(() => {})))
    }
  })

  it('an admin URL that is not PgBouncer is said, not thrown', async () => {
    const snapshot = await takeActivitySnapshot(
      { url: db.url, kind: 'server', description: 'test' },
      {
        thresholds: { idleInTransactionMs: 60_000, longQueryMs: 60_000, lockWaitMs: 1000, nearMaxConnections: 0.8 },
        limit: 5,
        pgbouncerUrl: db.url,
      },
    )
    expect(snapshot.pgbouncer).toBeNull()
    expect(snapshot.unavailable).toContainEqual(
      expect.objectContaining({ what: 'PgBouncer pools', why: expect.stringContaining('SHOW POOLS at') }),
    )
  })
})
