import { formatDuration } from '../core/index.js'
import type { ConnectionSummary, Finding, LockNode, LockTree, PgBouncerPool, PoolMetrics, Session } from './model.js'

export interface ActivityThresholds {
  /** A session idle in a transaction for longer is a finding, ms. */
  idleInTransactionMs: number
  /** A statement running for longer is a finding, ms. */
  longQueryMs: number
  /** A lock chain whose longest wait is longer is a finding, ms. */
  lockWaitMs: number
  /** Share of the usable connection slots in use that is a finding, 0..1. */
  nearMaxConnections: number
}

export interface FindingInputs {
  sessions: readonly Session[]
  connections: ConnectionSummary | null
  lockTrees: readonly LockTree[]
  pool: PoolMetrics | null
  pgbouncer: readonly PgBouncerPool[] | null
}

/** What to change, from one snapshot. Pure; ordered critical first, then by kind as listed in FINDING_KINDS. */
export function findActivityIssues(inputs: FindingInputs, thresholds: ActivityThresholds): Finding[] {
  const findings = [
    ...lockChainFindings(inputs.lockTrees, thresholds),
    ...idleInTransactionFindings(inputs.sessions, inputs.lockTrees, thresholds),
    ...longQueryFindings(inputs.sessions, thresholds),
    ...poolFindings(inputs, thresholds),
    ...pgbouncerFindings(inputs.pgbouncer ?? [], inputs.connections),
  ]
  return findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1))
}

const age = (ms: number | null) => (ms === null ? 'an unknown time' : formatDuration(ms))
const who = (session: { pid: number; application: string; user: string | null }) =>
  `session ${session.pid} (${session.application ? `${session.application}, ` : ''}role ${session.user ?? '?'})`

function lockChainFindings(trees: readonly LockTree[], thresholds: ActivityThresholds): Finding[] {
  return trees
    .filter((tree) => tree.deadlock || (tree.longestWaitMs ?? 0) >= thresholds.lockWaitMs)
    .map((tree) => {
      const { root } = tree
      const doing = rootActivity(root)
      const severity =
        tree.deadlock || (tree.longestWaitMs ?? 0) >= 10 * thresholds.lockWaitMs || tree.waiters >= 5 ? 'critical' : 'warning'
      const advice = tree.deadlock
        ? `These sessions wait for each other; PostgreSQL's deadlock detector will cancel one after deadlock_timeout. If it does not, opsctl db activity terminate ${root.pid}.`
        : root.state === 'active'
          ? `opsctl db activity cancel ${root.pid} stops its statement (its transaction rolls back and the chain frees); terminate ${root.pid} if it does not.`
          : `opsctl db activity terminate ${root.pid} ends it and rolls its transaction back (it runs nothing, so a cancel would not help); then find why ${root.application || 'the application'} keeps the transaction open.`
      return {
        kind: 'lock-chain' as const,
        severity,
        message:
          `${who(root)} ${tree.deadlock ? 'waits in a lock cycle with' : 'blocks'} ${tree.waiters} session${tree.waiters === 1 ? '' : 's'}` +
          ` for up to ${age(tree.longestWaitMs)}; it ${doing}`,
        advice,
        pid: root.pid,
        evidence: {
          waiters: tree.waiters,
          longestWaitMs: tree.longestWaitMs,
          rootState: root.state,
          rootTransactionAgeMs: root.transactionAgeMs,
        },
      }
    })
}

function rootActivity(root: LockNode): string {
  const query = root.query ? `: ${root.query.length > 80 ? `${root.query.slice(0, 79)}…` : root.query}` : ''
  if (root.state === 'hidden') return 'is a session this role may not inspect'
  if (root.state === 'active')
    return `has run its statement for ${age(root.queryAgeMs)} (transaction open ${age(root.transactionAgeMs)})${query}`
  return `is ${root.state} with its transaction open for ${age(root.transactionAgeMs)}; last statement${query || ' unknown'}`
}

function idleInTransactionFindings(sessions: readonly Session[], trees: readonly LockTree[], thresholds: ActivityThresholds): Finding[] {
  const blocking = new Set(trees.map((tree) => tree.root.pid))
  const idle = sessions.filter(
    (session) =>
      (session.state === 'idle in transaction' || session.state === 'idle in transaction (aborted)') &&
      (session.stateAgeMs ?? 0) > thresholds.idleInTransactionMs,
  )
  const byApplication = new Map<string, Session[]>()
  for (const session of idle) {
    const key = `${session.application}\u0000${session.user ?? ''}`
    byApplication.set(key, [...(byApplication.get(key) ?? []), session])
  }
  return [...byApplication.values()].map((group) => {
    group.sort((a, b) => (b.stateAgeMs ?? 0) - (a.stateAgeMs ?? 0))
    const oldest = group[0]!
    const app = oldest.application ? `application ${oldest.application}` : 'a session without application_name'
    const pids = group.map((session) => session.pid)
    const blocks = group.some((session) => blocking.has(session.pid))
    return {
      kind: 'idle-in-transaction' as const,
      severity: blocks ? ('critical' as const) : ('warning' as const),
      message:
        group.length === 1
          ? `${app} (role ${oldest.user ?? '?'}, pid ${oldest.pid}) has been idle in a transaction for ${age(oldest.stateAgeMs)}` +
            `${blocks ? ' and blocks others' : ''}; last statement: ${oldest.query ?? 'unknown'}`
          : `${group.length} sessions of ${app} (role ${oldest.user ?? '?'}) are idle in a transaction, the oldest for ${age(oldest.stateAgeMs)}` +
            ` (pids ${pids.slice(0, 10).join(', ')}${pids.length > 10 ? ', …' : ''})${blocks ? '; some block others' : ''}`,
      advice:
        `opsctl db activity terminate ${oldest.pid} ends it (its transaction rolls back). The code path that ran ` +
        `"${oldest.query ?? 'its last statement'}" leaves the transaction open (a missing COMMIT, or a client not released); ` +
        `idle_in_transaction_session_timeout (e.g. ALTER ROLE ${oldest.user ?? 'app'} SET idle_in_transaction_session_timeout = '60s') bounds it.`,
      pid: oldest.pid,
      evidence: { application: oldest.application, role: oldest.user, sessions: group.length, idleMs: oldest.stateAgeMs },
    }
  })
}

function longQueryFindings(sessions: readonly Session[], thresholds: ActivityThresholds): Finding[] {
  return sessions
    .filter((session) => session.state === 'active' && session.blockedBy.length === 0 && (session.queryAgeMs ?? 0) > thresholds.longQueryMs)
    .sort((a, b) => (b.queryAgeMs ?? 0) - (a.queryAgeMs ?? 0))
    .map((session) => ({
      kind: 'long-query' as const,
      severity: 'warning' as const,
      message: `${who(session)} has run one statement for ${age(session.queryAgeMs)}: ${session.query ?? 'unknown'}`,
      advice: `opsctl db explain shows why it is slow (and which index helps); opsctl db activity cancel ${session.pid} stops it now.`,
      pid: session.pid,
      evidence: { runningMs: session.queryAgeMs, application: session.application, role: session.user },
    }))
}

function poolFindings(inputs: FindingInputs, thresholds: ActivityThresholds): Finding[] {
  const { pool, connections, sessions } = inputs
  const findings: Finding[] = []
  const acquire = pool?.acquire?.p95Ms != null ? `, acquire p95 ${formatDuration(pool.acquire.p95Ms)}` : ''
  if (pool && pool.waiting > 0 && (connections === null || connections.free > 0)) {
    const size = pool.max ?? pool.total
    const room = connections ? Math.max(0, Math.floor(connections.usable * thresholds.nearMaxConnections) - connections.used) : null
    const suggested = room === null ? size * 2 : Math.min(Math.max(size * 2, size + Math.ceil(pool.waiting / 4)), size + room)
    findings.push({
      kind: 'pool-starved',
      severity: pool.waiting >= size ? 'critical' : 'warning',
      message:
        `The service's pool is starved: ${pool.waiting} request${pool.waiting === 1 ? '' : 's'} wait for a connection ` +
        `(${pool.total} open of ${pool.max ?? '?'}, ${pool.idle} idle${acquire}) while the database has ` +
        `${connections ? `${connections.free} free connection slots` : 'free slots as far as can be seen'}.`,
      advice:
        suggested > size
          ? `Raise the pool size (PG_POOL_MAX for the reference service; max of pg.Pool) to about ${suggested}, keeping instances × pool size ` +
            `under ${Math.round(thresholds.nearMaxConnections * 100)}% of ${connections ? `the ${connections.usable} usable connections` : 'max_connections'}; ` +
            `if requests still wait, look for slow statements holding connections (opsctl db top).`
          : 'The database has no room for a larger pool: find the slow statements holding connections (opsctl db top), or put PgBouncer in front.',
      evidence: {
        waiting: pool.waiting,
        total: pool.total,
        idle: pool.idle,
        max: pool.max,
        acquireP95Ms: pool.acquire?.p95Ms ?? null,
        databaseFree: connections?.free ?? null,
        suggestedSize: suggested,
      },
    })
  }
  if (connections && connections.usable > 0 && connections.usedShare >= thresholds.nearMaxConnections) {
    const top = connections.byApplication[0]
    const poolShare = pool ? `; the service's pool holds ${pool.total} of them` : ''
    findings.push({
      kind: 'near-max-connections',
      severity: connections.free === 0 ? 'critical' : 'warning',
      message:
        `${connections.used} of ${connections.usable} usable connections are in use (${Math.round(connections.usedShare * 100)}%, ` +
        `max_connections ${connections.maxConnections} minus ${connections.reserved} reserved)` +
        `${top ? `; ${top.name} holds ${top.count}` : ''}${poolShare}.`,
      advice:
        'Pools are too large for this server (instances × pool size should stay under ' +
        `${Math.round(thresholds.nearMaxConnections * 100)}% of the usable connections), or it is time for PgBouncer in transaction mode ` +
        'in front of PostgreSQL, starting from the settings below. Transaction mode breaks session state: SET, session advisory locks, ' +
        'LISTEN and WITH HOLD cursors; prepared statements need PgBouncer 1.21+ (max_prepared_statements).',
      settings: pgbouncerSettings(connections, sessions),
      evidence: { used: connections.used, usable: connections.usable, free: connections.free, maxConnections: connections.maxConnections },
    })
  }
  return findings
}

/**
 * PgBouncer settings to start from: transaction pooling, server connections per database/user
 * pair sized from what is active now (with headroom) and capped so that all pairs together stay
 * within 60% of the usable slots, and room for twice today's clients.
 */
export function pgbouncerSettings(connections: ConnectionSummary, sessions: readonly Session[]): Record<string, string | number> {
  const pairs = new Set(sessions.map((session) => `${session.database ?? ''}\u0000${session.user ?? ''}`)).size || 1
  const active = sessions.filter((session) => session.state === 'active').length
  const cap = Math.max(1, Math.floor((connections.usable * 0.6) / pairs))
  return {
    pool_mode: 'transaction',
    default_pool_size: Math.min(cap, Math.max(10, Math.ceil(active * 1.5))),
    max_client_conn: Math.max(200, Math.ceil((connections.used * 2) / 100) * 100),
    reserve_pool_size: 5,
    reserve_pool_timeout: 3,
    server_idle_timeout: 600,
    max_prepared_statements: 100,
  }
}

function pgbouncerFindings(pools: readonly PgBouncerPool[], connections: ConnectionSummary | null): Finding[] {
  return pools
    .filter((pool) => pool.clientsWaiting > 0)
    .map((pool) => ({
      kind: 'pgbouncer-waiting' as const,
      severity: pool.maxWaitMs >= 1000 ? ('critical' as const) : ('warning' as const),
      message:
        `PgBouncer pool ${pool.database}/${pool.user} has ${pool.clientsWaiting} client${pool.clientsWaiting === 1 ? '' : 's'} waiting ` +
        `(oldest ${formatDuration(pool.maxWaitMs)}) with ${pool.serversActive} server connection${pool.serversActive === 1 ? '' : 's'} active and ${pool.serversIdle} idle` +
        `${pool.poolMode ? ` (${pool.poolMode} mode)` : ''}.`,
      advice:
        connections && connections.free > 0
          ? `Raise default_pool_size (or pool_size of ${pool.database}) in pgbouncer.ini and RELOAD: the database has ${connections.free} free slots. ` +
            'If the server connections are busy with slow statements, fix those first (opsctl db top).'
          : 'The server connections are all busy: find the slow statements holding them (opsctl db top) before adding more.',
      evidence: {
        database: pool.database,
        user: pool.user,
        waiting: pool.clientsWaiting,
        maxWaitMs: pool.maxWaitMs,
        active: pool.serversActive,
      },
    }))
}
