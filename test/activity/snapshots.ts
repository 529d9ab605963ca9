import { summarizeConnections } from '../../src/activity/connections.js'
import { findActivityIssues } from '../../src/activity/findings.js'
import { buildLockTrees } from '../../src/activity/lock-tree.js'
import type { ActivitySnapshot, PoolMetrics, Session } from '../../src/activity/model.js'
import { session } from './fixtures.js'

const NOW = Date.parse('2026-12-05T10:00:00Z')
const THRESHOLDS = { idleInTransactionMs: 60_000, longQueryMs: 60_000, lockWaitMs: 1000, nearMaxConnections: 0.8 }

function snapshotOf(sessions: Session[], extra: Partial<ActivitySnapshot> = {}): ActivitySnapshot {
  const connections = summarizeConnections(sessions, { maxConnections: 100, reserved: 3 })
  const lockTrees = buildLockTrees(sessions, [], NOW)
  const pool = extra.pool ?? null
  return {
    takenAt: new Date(NOW).toISOString(),
    collectMs: 12.5,
    database: {
      description: 'PostgreSQL at 127.0.0.1:5432/shop',
      kind: 'server',
      name: 'shop',
      role: 'postgres',
      superuser: true,
      serverVersion: '15.20 (Debian)',
    },
    connections,
    sessions,
    oldestTransactions: sessions.filter((s) => s.transactionAgeMs !== null),
    longestQueries: [],
    lockTrees,
    pool,
    pgbouncer: null,
    statements: {
      available: false,
      reason: 'pg_stat_statements is not installed in database shop',
      hint: 'CREATE EXTENSION pg_stat_statements;',
      rows: [],
    },
    findings: findActivityIssues({ sessions, connections, lockTrees, pool, pgbouncer: null }, THRESHOLDS),
    unavailable: [],
    ...extra,
  }
}

/** Busy: a lock chain, an old idle transaction and a starved pool. */
export function busySnapshot(): ActivitySnapshot {
  const pool: PoolMetrics = { source: 'http://127.0.0.1:3000/metrics', total: 2, idle: 0, waiting: 48, max: 2, acquire: null }
  return snapshotOf(
    [
      session(100, { state: 'active', query: 'SELECT pg_sleep($1)', transactionAgeMs: 30_000, queryAgeMs: 29_000 }),
      session(101, { state: 'active', blockedBy: [100], stateAgeMs: 20_000, query: 'UPDATE items SET quantity = $1 WHERE id = $2' }),
      session(102, { state: 'active', blockedBy: [101], stateAgeMs: 10_000 }),
      session(200, { state: 'idle in transaction', stateAgeMs: 125_000, transactionAgeMs: 130_000, application: 'billing-worker' }),
    ],
    { pool },
  )
}

export function emptySnapshot(): ActivitySnapshot {
  return snapshotOf([])
}

/** The embedded database: nothing but what it can show. */
export function embeddedSnapshot(): ActivitySnapshot {
  return {
    ...snapshotOf([]),
    database: {
      description: 'embedded PGlite on 127.0.0.1:5555',
      kind: 'embedded',
      name: 'postgres',
      role: 'postgres',
      superuser: true,
      serverVersion: '18.6',
    },
    connections: null,
    statements: { available: false, reason: 'pg_stat_statements is not available in the embedded PGlite database', rows: [] },
    unavailable: [{ what: 'sessions, connection counts and lock chains', why: 'the embedded PGlite database runs one backend' }],
  }
}
