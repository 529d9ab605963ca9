/**
 * One snapshot of database activity: who is connected, who waits on whom, how the service's pool
 * and PgBouncer fare, which statements cost the most, and what to change. Plain data (JSON as it
 * is printed with --json): the text renderer, the Ink watch view and the dashboard all read it.
 * Times are ISO 8601 UTC; ages and waits are milliseconds measured on the server's clock.
 */

/** A row of pg_stat_activity as the adapter reads it (query text already normalised). */
export interface RawSession {
  pid: number
  leaderPid: number | null
  database: string | null
  user: string | null
  application: string | null
  clientAddr: string | null
  backendType: string | null
  state: string | null
  backendStart: Date | null
  xactStart: Date | null
  queryStart: Date | null
  stateChange: Date | null
  waitEventType: string | null
  waitEvent: string | null
  /** Normalised, parameter values as $n; null when hidden from this role. */
  query: string | null
  blockedBy: number[]
}

/** A row of pg_locks for a session in a lock chain. */
export interface RawLock {
  pid: number
  locktype: string
  mode: string
  granted: boolean
  /** The relation's name in this database, `oid N` in another one, null for non-relation locks. */
  relation: string | null
  page: number | null
  tuple: number | null
  transactionId: string | null
  virtualXid: string | null
  /** The other fields that identify the locked object, so that a waiter is matched to its holder. */
  objectKey: string
  waitStart: Date | null
}

export type SessionState =
  | 'active'
  | 'idle'
  | 'idle in transaction'
  | 'idle in transaction (aborted)'
  | 'fastpath function call'
  | 'disabled'
  /** This role may not see the session's state (another role's session, without pg_read_all_stats). */
  | 'hidden'

export interface Session {
  pid: number
  database: string | null
  user: string | null
  application: string
  /** Client address, `local` for a Unix socket, null when hidden. */
  client: string | null
  state: SessionState
  /** False when this role sees only the pid, role, database and application of the session. */
  visible: boolean
  transactionStartedAt: string | null
  queryStartedAt: string | null
  stateChangedAt: string | null
  transactionAgeMs: number | null
  queryAgeMs: number | null
  stateAgeMs: number | null
  waitEvent: string | null
  query: string | null
  blockedBy: number[]
}

export interface CountRow {
  name: string
  count: number
}

export interface ConnectionSummary {
  maxConnections: number
  /** superuser_reserved_connections (+ reserved_connections from PostgreSQL 16). */
  reserved: number
  /** max_connections minus reserved: what ordinary roles can use. */
  usable: number
  /** Client connections on the whole server (other roles' too), without opsctl's own. */
  used: number
  free: number
  /** used / usable, 0..1 (can exceed 1 when superusers use the reserved slots). */
  usedShare: number
  byState: CountRow[]
  byApplication: CountRow[]
  byUser: CountRow[]
  byClient: CountRow[]
  byDatabase: CountRow[]
}

export interface LockWait {
  locktype: string
  mode: string
  /** What the lock is on, for people: `relation items`, `row of items (transaction 7712)`, `tuple (0,5) of items`. */
  target: string
  relation: string | null
  waitMs: number | null
}

export interface LockNode {
  pid: number
  user: string | null
  application: string
  state: SessionState
  query: string | null
  transactionAgeMs: number | null
  queryAgeMs: number | null
  /** What this session waits for (absent for the root). */
  waiting?: LockWait
  /** Other sessions it also waits behind (it is shown once, under the one that holds the lock). */
  alsoBlockedBy: number[]
  children: LockNode[]
}

export interface LockTree {
  root: LockNode
  /** Sessions waiting in this tree, directly or through others. */
  waiters: number
  longestWaitMs: number | null
  /** The root waits too: a cycle the deadlock detector has not broken yet. */
  deadlock: boolean
}

export interface AcquireTimes {
  count: number
  meanMs: number | null
  p50Ms: number | null
  p95Ms: number | null
  p99Ms: number | null
}

/** The service's pg.Pool as its /metrics shows it. */
export interface PoolMetrics {
  source: string
  total: number
  idle: number
  waiting: number
  /** The pool's size limit, when the service exports it (pg_pool_max_connections). */
  max: number | null
  acquire: AcquireTimes | null
}

/** One row of PgBouncer's SHOW POOLS. */
export interface PgBouncerPool {
  database: string
  user: string
  clientsActive: number
  clientsWaiting: number
  serversActive: number
  serversIdle: number
  serversUsed: number
  serversTested: number
  serversLogin: number
  /** Age of the oldest waiting client, ms. */
  maxWaitMs: number
  poolMode: string | null
}

export interface StatementRow {
  /** Normalised; null when it belongs to another role and this role may not read it. */
  query: string | null
  calls: number
  totalMs: number
  meanMs: number
  rows: number
  /** Share of the total time of all statements, 0..1. */
  share: number
  /** Shared buffer hits / (hits + reads), null without reads or hits. */
  hitRatio: number | null
}

export interface StatementsReport {
  available: boolean
  /** Why not, when not available. */
  reason?: string
  hint?: string
  /** pg_stat_statements_info.stats_reset: the rows count since then. */
  since?: string | null
  rows: StatementRow[]
}

export const FINDING_KINDS = [
  'lock-chain',
  'idle-in-transaction',
  'long-query',
  'pool-starved',
  'near-max-connections',
  'pgbouncer-waiting',
] as const
export type FindingKind = (typeof FINDING_KINDS)[number]

export interface Finding {
  kind: FindingKind
  severity: 'critical' | 'warning'
  /** What is wrong, with the names and numbers. */
  message: string
  /** What to change (a command, a setting). */
  advice: string
  pid?: number
  /** Settings to start from (PgBouncer), name -> value. */
  settings?: Record<string, string | number>
  evidence: Record<string, string | number | null>
}

/** Something this snapshot could not show, and why. */
export interface Unavailable {
  what: string
  why: string
  hint?: string
}

export interface DatabaseInfo {
  /** Without secrets: `PostgreSQL at 127.0.0.1:5432/app`. */
  description: string
  kind: 'server' | 'embedded'
  name: string | null
  role: string | null
  superuser: boolean | null
  serverVersion: string | null
}

export interface ActivitySnapshot {
  takenAt: string
  /** How long collecting took, ms. */
  collectMs: number
  database: DatabaseInfo
  connections: ConnectionSummary | null
  /** Client sessions, opsctl's own excluded. */
  sessions: Session[]
  oldestTransactions: Session[]
  longestQueries: Session[]
  lockTrees: LockTree[]
  pool: PoolMetrics | null
  pgbouncer: PgBouncerPool[] | null
  statements: StatementsReport
  findings: Finding[]
  unavailable: Unavailable[]
}
