import type { ConnectionSummary, CountRow, RawSession, Session, SessionState } from './model.js'

const STATES: ReadonlySet<string> = new Set([
  'active',
  'idle',
  'idle in transaction',
  'idle in transaction (aborted)',
  'fastpath function call',
  'disabled',
])

/**
 * Client sessions from pg_stat_activity rows, with ages on the server's clock. Background
 * processes (checkpointer, autovacuum, walwriter) do not take connection slots and are left out.
 * A row this role may not see in full has no backend type; when it has a role and a database (the
 * logical replication launcher has a role but no database) it is a client session whose state is
 * hidden, and it counts. `anyType` keeps every row (a background process can block a client).
 */
export function toSessions(rows: readonly RawSession[], nowMs: number, options: { anyType?: boolean } = {}): Session[] {
  const sessions: Session[] = []
  for (const row of rows) {
    const visible = row.backendType !== null
    const client = visible ? row.backendType === 'client backend' : row.user !== null && row.database !== null
    if (!client && !options.anyType) continue
    const age = (at: Date | null) => (at === null ? null : Math.max(0, nowMs - at.getTime()))
    const state: SessionState = visible && row.state !== null && STATES.has(row.state) ? (row.state as SessionState) : 'hidden'
    sessions.push({
      pid: row.pid,
      database: row.database,
      user: row.user,
      application: row.application ?? '',
      client: visible ? (row.clientAddr ?? 'local') : null,
      state,
      visible,
      transactionStartedAt: row.xactStart?.toISOString() ?? null,
      queryStartedAt: row.queryStart?.toISOString() ?? null,
      stateChangedAt: row.stateChange?.toISOString() ?? null,
      transactionAgeMs: age(row.xactStart),
      queryAgeMs: age(row.queryStart),
      stateAgeMs: age(row.stateChange),
      waitEvent: row.waitEventType ? `${row.waitEventType}${row.waitEvent ? `: ${row.waitEvent}` : ''}` : null,
      query: row.query,
      blockedBy: row.blockedBy,
    })
  }
  return sessions
}

export interface ServerLimits {
  maxConnections: number
  reserved: number
}

export function summarizeConnections(sessions: readonly Session[], limits: ServerLimits): ConnectionSummary {
  const usable = Math.max(0, limits.maxConnections - limits.reserved)
  const used = sessions.length
  return {
    maxConnections: limits.maxConnections,
    reserved: limits.reserved,
    usable,
    used,
    free: Math.max(0, usable - used),
    usedShare: usable > 0 ? used / usable : 1,
    byState: countBy(sessions, (session) => session.state),
    byApplication: countBy(sessions, (session) => session.application || '(none)'),
    byUser: countBy(sessions, (session) => session.user ?? '(unknown)'),
    byClient: countBy(sessions, (session) => session.client ?? '(hidden)'),
    byDatabase: countBy(sessions, (session) => session.database ?? '(none)'),
  }
}

function countBy(sessions: readonly Session[], key: (session: Session) => string): CountRow[] {
  const counts = new Map<string, number>()
  for (const session of sessions) counts.set(key(session), (counts.get(key(session)) ?? 0) + 1)
  return [...counts]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** The longest-open transactions, oldest first. */
export function oldestTransactions(sessions: readonly Session[], limit: number): Session[] {
  return sessions
    .filter((session) => session.transactionAgeMs !== null)
    .sort((a, b) => b.transactionAgeMs! - a.transactionAgeMs! || a.pid - b.pid)
    .slice(0, limit)
}

/** The statements running longest, oldest first. */
export function longestQueries(sessions: readonly Session[], limit: number): Session[] {
  return sessions
    .filter((session) => session.state === 'active' && session.queryAgeMs !== null)
    .sort((a, b) => b.queryAgeMs! - a.queryAgeMs! || a.pid - b.pid)
    .slice(0, limit)
}
