/**
 * Pool pressure: the reference service (its own process, PG_POOL_MAX=2) under 50 concurrent
 * requests from autocannon, read through its /metrics. Starved means requests wait for a pool
 * connection while the database has free slots.
 */
import autocannon from 'autocannon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { takeActivitySnapshot, type ActivityOptions } from '../../src/activity/collect.js'
import type { ActivitySnapshot } from '../../src/activity/model.js'
import { createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { startServerProcess, type ServerProcess } from '../reference-service/support.js'

const serverAvailable = requireOrSkip(await isServerReachable(), 'no PostgreSQL server reachable for the pool pressure test')

let db: TestDatabase
let service: ServerProcess

const options = (): ActivityOptions => ({
  thresholds: { idleInTransactionMs: 60_000, longQueryMs: 60_000, lockWaitMs: 1000, nearMaxConnections: 0.8 },
  limit: 5,
  metricsUrl: `${service.url}/metrics`,
})
const target = () => ({ url: db.url, kind: 'server' as const, description: 'the test database' })

describe.runIf(serverAvailable)('the service pool under load', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    db = await createTestDatabase('activity_pool')
    service = await startServerProcess({ DATABASE_URL: db.url, SEED: '1', SEED_SCALE: '0.01', PG_POOL_MAX: '2' })
  })

  afterAll(async () => {
    if (service) {
      service.child.kill('SIGTERM')
      await service.closed
    }
    await db?.drop()
  })

  it('a pool of 2 under 50 concurrent requests is reported as starved, with its waiting count', async () => {
    const idle = await takeActivitySnapshot(target(), options())
    expect(idle.pool).toMatchObject({ waiting: 0, max: 2 })
    expect(idle.findings.filter((finding) => finding.kind === 'pool-starved')).toEqual([])

    // GET /users/:id/orders is an N+1: a query per order, each a checkout of the pool.
    // Without a callback autocannon returns its instance, which is also the result's promise (the types know only the promise).
    const load = autocannon({ url: `${service.url}/users/1/orders`, connections: 50, duration: 120 }) as unknown as autocannon.Instance &
      PromiseLike<autocannon.Result>
    let starved: ActivitySnapshot | undefined
    try {
      for (let attempt = 0; attempt < 60 && !starved; attempt++) {
        const snapshot = await takeActivitySnapshot(target(), options())
        if (snapshot.findings.some((finding) => finding.kind === 'pool-starved')) starved = snapshot
        else await new Promise((resolve) => setTimeout(resolve, 200))
      }
    } finally {
      load.stop()
      await load
    }
    expect(starved).toBeDefined()
    const finding = starved!.findings.find((item) => item.kind === 'pool-starved')!
    const waiting = starved!.pool!.waiting
    expect(waiting).toBeGreaterThan(0)
    expect(finding.evidence).toMatchObject({ waiting, total: 2, max: 2 })
    expect(finding.message).toContain(`${waiting} request${waiting === 1 ? '' : 's'} wait for a connection (2 open of 2`)
    expect(starved!.connections!.free).toBeGreaterThan(0)
    expect(starved!.pool!.acquire!.count).toBeGreaterThan(0)
    expect(starved!.pool!.acquire!.p99Ms).toBeGreaterThan(starved!.pool!.acquire!.p50Ms!)
    // The service's pool connections are sessions on the server too. pg's Pool counts a client that is still
    // connecting, whose backend may not yet show its database in pg_stat_activity: at least one is there.
    expect(starved!.sessions.filter((session) => session.database === db.url.split('/').pop()).length).toBeGreaterThanOrEqual(1)
  })

  it('a metrics URL that does not answer is said, and the rest of the snapshot still comes', async () => {
    const snapshot = await takeActivitySnapshot(target(), { ...options(), metricsUrl: 'http://127.0.0.1:9/metrics', timeoutMs: 2000 })
    expect(snapshot.pool).toBeNull()
    expect(snapshot.connections).not.toBeNull()
    expect(snapshot.unavailable).toEqual([
      expect.objectContaining({
        what: "the service's pool",
        why: expect.stringMatching(/^http:\/\/127\.0\.0\.1:9\/metrics could not be read: /),
      }),
    ])
  })
})
