import { describe, expect, it } from 'vitest'
import { longestQueries, oldestTransactions, toSessions } from '../../src/activity/connections.js'
import { findActivityIssues, pgbouncerSettings, type ActivityThresholds } from '../../src/activity/findings.js'
import { buildLockTrees } from '../../src/activity/lock-tree.js'
import type { PgBouncerPool, PoolMetrics, RawSession } from '../../src/activity/model.js'
import { activityVerdict } from '../../src/activity/verdict.js'
import { connectionsOf, session } from './fixtures.js'

const THRESHOLDS: ActivityThresholds = { idleInTransactionMs: 60_000, longQueryMs: 60_000, lockWaitMs: 1000, nearMaxConnections: 0.8 }
const NOW = Date.parse('2026-12-05T10:00:00Z')

function raw(pid: number, overrides: Partial<RawSession> = {}): RawSession {
  return {
    pid,
    leaderPid: null,
    database: 'shop',
    user: 'app',
    application: 'api',
    clientAddr: '10.0.0.5',
    backendType: 'client backend',
    state: 'idle',
    backendStart: new Date(NOW - 600_000),
    xactStart: null,
    queryStart: new Date(NOW - 5000),
    stateChange: new Date(NOW - 4000),
    waitEventType: 'Client',
    waitEvent: 'ClientRead',
    query: 'SELECT $1',
    blockedBy: [],
    ...overrides,
  }
}

describe('sessions and connection counts', () => {
  it('keeps client sessions, counts hidden ones of other roles, leaves background processes out', () => {
    const sessions = toSessions(
      [
        raw(1, { state: 'active', xactStart: new Date(NOW - 9000) }),
        raw(2, { clientAddr: null }),
        raw(3, { backendType: 'checkpointer', user: null, database: null }),
        raw(4, { backendType: null, state: null, user: 'billing', application: 'billing', clientAddr: null, query: null }),
        raw(5, { backendType: null, state: null, user: 'postgres', database: null, application: '' }), // the logical replication launcher
        raw(6, { backendType: 'autovacuum worker', user: null }),
      ],
      NOW,
    )
    expect(sessions.map((s) => [s.pid, s.state, s.client, s.visible])).toEqual([
      [1, 'active', '10.0.0.5', true],
      [2, 'idle', 'local', true],
      [4, 'hidden', null, false],
    ])
    expect(sessions[0]).toMatchObject({ transactionAgeMs: 9000, queryAgeMs: 5000, stateAgeMs: 4000, waitEvent: 'Client: ClientRead' })
    const summary = connectionsOf(sessions, 20, 3)
    expect(summary).toMatchObject({ maxConnections: 20, reserved: 3, usable: 17, used: 3, free: 14 })
    expect(summary.byState).toEqual([
      { name: 'active', count: 1 },
      { name: 'hidden', count: 1 },
      { name: 'idle', count: 1 },
    ])
    expect(summary.byApplication).toEqual([
      { name: 'api', count: 2 },
      { name: 'billing', count: 1 },
    ])
    expect(summary.byClient.map((row) => row.name)).toEqual(['(hidden)', '10.0.0.5', 'local'])
  })

  it('lists the oldest transactions and the longest running statements', () => {
    const sessions = [
      session(1, { transactionAgeMs: 5000, state: 'idle in transaction' }),
      session(2, { transactionAgeMs: 90_000, state: 'active', queryAgeMs: 80_000 }),
      session(3, { state: 'active', queryAgeMs: 100, transactionAgeMs: 100 }),
      session(4),
    ]
    expect(oldestTransactions(sessions, 2).map((s) => s.pid)).toEqual([2, 1])
    expect(longestQueries(sessions, 10).map((s) => s.pid)).toEqual([2, 3])
  })
})

describe('findings', () => {
  it('an idle-in-transaction session older than the threshold names its application and age', () => {
    const sessions = [
      session(41, {
        state: 'idle in transaction',
        stateAgeMs: 125_000,
        application: 'billing-worker',
        user: 'billing',
        query: 'UPDATE invoices SET paid = $1 WHERE id = $2',
      }),
      session(42, { state: 'idle in transaction', stateAgeMs: 30_000 }),
    ]
    const findings = findActivityIssues(
      { sessions, connections: connectionsOf(sessions), lockTrees: [], pool: null, pgbouncer: null },
      THRESHOLDS,
    )
    expect(findings).toHaveLength(1)
    expect(findings[0]).toMatchObject({ kind: 'idle-in-transaction', severity: 'warning', pid: 41 })
    expect(findings[0]!.message).toBe(
      'application billing-worker (role billing, pid 41) has been idle in a transaction for 2m5s; last statement: UPDATE invoices SET paid = $1 WHERE id = $2',
    )
    expect(findings[0]!.advice).toContain('opsctl db activity terminate 41')
    expect(findings[0]!.advice).toContain("ALTER ROLE billing SET idle_in_transaction_session_timeout = '60s'")
  })

  it('groups idle-in-transaction sessions of one application, and is critical when one blocks others', () => {
    const sessions = [
      session(1, { state: 'idle in transaction (aborted)', stateAgeMs: 70_000 }),
      session(2, { state: 'idle in transaction', stateAgeMs: 300_000 }),
      session(3, { state: 'active', blockedBy: [2] }),
    ]
    const trees = buildLockTrees(sessions, [], NOW)
    const [idle] = findActivityIssues({ sessions, connections: null, lockTrees: trees, pool: null, pgbouncer: null }, THRESHOLDS).filter(
      (finding) => finding.kind === 'idle-in-transaction',
    )
    expect(idle).toMatchObject({ severity: 'critical', pid: 2, evidence: { sessions: 2, idleMs: 300_000 } })
    expect(idle!.message).toBe(
      '2 sessions of application reference-service (role app) are idle in a transaction, the oldest for 5m0s (pids 2, 1); some block others',
    )
  })

  it('a lock chain whose longest wait passes the threshold: cancel an active root, terminate an idle one', () => {
    const base = (rootState: 'active' | 'idle in transaction') => [
      session(10, { state: rootState, queryAgeMs: 9000, transactionAgeMs: 10_000, query: 'SELECT pg_sleep($1)' }),
      session(11, { state: 'active', blockedBy: [10], stateAgeMs: 4000 }),
    ]
    const run = (rootState: 'active' | 'idle in transaction') => {
      const sessions = base(rootState)
      return findActivityIssues(
        { sessions, connections: null, lockTrees: buildLockTrees(sessions, [], NOW), pool: null, pgbouncer: null },
        THRESHOLDS,
      )
    }
    const [active] = run('active')
    expect(active).toMatchObject({ kind: 'lock-chain', pid: 10, severity: 'warning' })
    expect(active!.message).toBe(
      'session 10 (reference-service, role app) blocks 1 session for up to 4.00s; it has run its statement for 9.00s (transaction open 10.0s): SELECT pg_sleep($1)',
    )
    expect(active!.advice).toMatch(/^opsctl db activity cancel 10 /)
    const [idle] = run('idle in transaction')
    expect(idle!.advice).toMatch(/^opsctl db activity terminate 10 .*a cancel would not help/)
  })

  it('no lock-chain finding for a wait shorter than the threshold', () => {
    const sessions = [session(1), session(2, { blockedBy: [1], stateAgeMs: 200 })]
    expect(
      findActivityIssues(
        { sessions, connections: null, lockTrees: buildLockTrees(sessions, [], NOW), pool: null, pgbouncer: null },
        THRESHOLDS,
      ),
    ).toEqual([])
  })

  it('a long statement that is not waiting for a lock', () => {
    const sessions = [
      session(5, { state: 'active', queryAgeMs: 61_000, query: 'SELECT * FROM items WHERE sku = $1' }),
      session(6, { state: 'active', queryAgeMs: 90_000, blockedBy: [5] }),
    ]
    const findings = findActivityIssues({ sessions, connections: null, lockTrees: [], pool: null, pgbouncer: null }, THRESHOLDS)
    expect(findings.map((finding) => [finding.kind, finding.pid])).toEqual([['long-query', 5]])
  })

  const starved: PoolMetrics = {
    source: 'm',
    total: 2,
    idle: 0,
    waiting: 48,
    max: 2,
    acquire: { count: 900, meanMs: 80, p50Ms: 40, p95Ms: 250, p99Ms: 400 },
  }

  it('a pool with waiting clients while the database has free slots is starved, with a size to try', () => {
    const sessions = [session(1), session(2)]
    const [finding] = findActivityIssues(
      { sessions, connections: connectionsOf(sessions), lockTrees: [], pool: starved, pgbouncer: null },
      THRESHOLDS,
    )
    expect(finding).toMatchObject({
      kind: 'pool-starved',
      severity: 'critical',
      evidence: { waiting: 48, databaseFree: 95, suggestedSize: 14 },
    })
    expect(finding!.message).toBe(
      "The service's pool is starved: 48 requests wait for a connection (2 open of 2, 0 idle, acquire p95 250ms) while the database has 95 free connection slots.",
    )
    expect(finding!.advice).toContain('to about 14')
  })

  it('no pool-starved finding when the database itself is full (that is near-max-connections)', () => {
    const sessions = Array.from({ length: 97 }, (_, i) => session(i + 1, { state: i < 30 ? 'active' : 'idle' }))
    const findings = findActivityIssues(
      { sessions, connections: connectionsOf(sessions), lockTrees: [], pool: starved, pgbouncer: null },
      THRESHOLDS,
    )
    expect(findings.map((finding) => finding.kind)).toEqual(['near-max-connections'])
    expect(findings[0]).toMatchObject({ severity: 'critical' })
    expect(findings[0]!.message).toBe(
      "97 of 97 usable connections are in use (100%, max_connections 100 minus 3 reserved); reference-service holds 97; the service's pool holds 2 of them.",
    )
    expect(findings[0]!.settings).toEqual({
      pool_mode: 'transaction',
      default_pool_size: 45,
      max_client_conn: 200,
      reserve_pool_size: 5,
      reserve_pool_timeout: 3,
      server_idle_timeout: 600,
      max_prepared_statements: 100,
    })
  })

  it('PgBouncer pool sizes stay within 60% of the usable slots over all database/role pairs', () => {
    const sessions = Array.from({ length: 90 }, (_, i) => session(i + 1, { state: 'active', user: `role${i % 3}` }))
    const settings = pgbouncerSettings(connectionsOf(sessions), sessions)
    expect(settings.default_pool_size).toBe(19) // floor(97 * 0.6 / 3)
    expect(settings.max_client_conn).toBe(200)
  })

  it('PgBouncer clients waiting for a server connection', () => {
    const pool: PgBouncerPool = {
      database: 'shop',
      user: 'app',
      clientsActive: 20,
      clientsWaiting: 7,
      serversActive: 20,
      serversIdle: 0,
      serversUsed: 0,
      serversTested: 0,
      serversLogin: 0,
      maxWaitMs: 2500,
      poolMode: 'transaction',
    }
    const [finding] = findActivityIssues(
      { sessions: [], connections: connectionsOf([]), lockTrees: [], pool: null, pgbouncer: [pool] },
      THRESHOLDS,
    )
    expect(finding).toMatchObject({ kind: 'pgbouncer-waiting', severity: 'critical' })
    expect(finding!.message).toBe(
      'PgBouncer pool shop/app has 7 clients waiting (oldest 2.50s) with 20 server connections active and 0 idle (transaction mode).',
    )
    expect(finding!.advice).toContain('the database has 97 free slots')
  })
})

describe('the verdict', () => {
  const sessions = [session(41, { state: 'idle in transaction', stateAgeMs: 125_000 })]
  const snapshot = { findings: findActivityIssues({ sessions, connections: null, lockTrees: [], pool: null, pgbouncer: null }, THRESHOLDS) }

  it('findings are information: a pass without --fail-on', () => {
    expect(activityVerdict(snapshot, [])).toEqual({ status: 'pass', reasons: [] })
  })

  it('fails on a finding of a --fail-on kind, with its advice as the hint', () => {
    const outcome = activityVerdict(snapshot, ['idle-in-transaction'])
    expect(outcome.status).toBe('fail')
    expect(outcome.reasons[0]).toMatch(/^idle-in-transaction: application reference-service/)
    expect(outcome.hint).toMatch(/^opsctl db activity terminate 41/)
    expect(activityVerdict(snapshot, ['lock-chain']).status).toBe('pass')
  })
})
