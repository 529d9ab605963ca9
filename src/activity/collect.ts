import pg from 'pg'
import { redactText, type Settings } from '../core/index.js'
import { withDatabase } from '../db/index.js'
import { QueryIdentifier, loadQueryParser } from '../nplusone/index.js'
import { longestQueries, oldestTransactions, summarizeConnections, toSessions } from './connections.js'
import { findActivityIssues, type ActivityThresholds } from './findings.js'
import { buildLockTrees } from './lock-tree.js'
import type {
  ActivitySnapshot,
  ConnectionSummary,
  DatabaseInfo,
  LockTree,
  PgBouncerPool,
  PoolMetrics,
  RawLock,
  RawSession,
  Session,
  StatementsReport,
  Unavailable,
} from './model.js'
import { parseShowPools } from './pgbouncer.js'
import { readPoolMetrics } from './pool.js'
import { PRELOAD_SQL, SERVER_SQL, STATEMENTS_EXTENSION_SQL, activitySql, locksSql, statementsResetSql, statementsSql } from './queries.js'

export interface ActivityOptions {
  thresholds: ActivityThresholds
  /** Rows in each list (oldest transactions, longest queries, top statements). */
  limit: number
  /** The service's Prometheus /metrics with its pg pool gauges. */
  metricsUrl?: string | undefined
  /** PgBouncer's admin console, for SHOW POOLS. */
  pgbouncerUrl?: string | undefined
  /** Per statement and per HTTP request (default 5 s). */
  timeoutMs?: number
}

/** The database to look at, as the db module opened it. */
export interface ActivityTarget {
  url: string
  kind: 'server' | 'embedded'
  description: string
}

/** One connection kept across snapshots (the --watch view takes one every interval). */
export interface ActivitySource {
  snapshot(): Promise<ActivitySnapshot>
  close(): Promise<void>
}

const APPLICATION_NAME = 'opsctl db activity'
const DEFAULT_TIMEOUT_MS = 5000
/** A /metrics page larger than this is not a service's page: it is refused, not read. */
const MAX_METRICS_BYTES = 8 * 1024 * 1024

interface ServerRow {
  version_num: number
  version: string
  max_connections: number
  superuser_reserved: number
  reserved: number
  role: string
  database: string
  superuser: boolean
  read_all_stats: boolean
  signal_backend: boolean
}

/**
 * Opens the configured database (database.url, DATABASE_URL, or the embedded one) and an activity
 * source on it for `use` (one snapshot, or the watch view's refreshes), and closes both after.
 */
export async function withActivitySource<T>(
  settings: Pick<Settings, 'config' | 'stateDir'>,
  options: ActivityOptions,
  use: (source: ActivitySource) => Promise<T>,
  log?: (message: string) => void,
): Promise<T> {
  return withDatabase(
    settings,
    async (database) => {
      const source = await openActivitySource(database, options)
      try {
        return await use(source)
      } finally {
        await source.close()
      }
    },
    log ? { log } : {},
  )
}

/** Takes one snapshot and closes its connection. */
export async function takeActivitySnapshot(target: ActivityTarget, options: ActivityOptions): Promise<ActivitySnapshot> {
  const source = await openActivitySource(target, options)
  try {
    return await source.snapshot()
  } finally {
    await source.close()
  }
}

export async function openActivitySource(target: ActivityTarget, options: ActivityOptions): Promise<ActivitySource> {
  await loadQueryParser()
  const identifier = new QueryIdentifier()
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let client: pg.Client | undefined

  const connect = async (): Promise<pg.Client> => {
    if (client) return client
    const fresh = new pg.Client({
      connectionString: target.url,
      application_name: APPLICATION_NAME,
      statement_timeout: timeoutMs,
      connectionTimeoutMillis: timeoutMs,
    })
    // A connection dropped between two refreshes is opened again at the next one.
    fresh.on('error', () => {
      if (client === fresh) client = undefined
    })
    await fresh.connect()
    client = fresh
    return fresh
  }
  const normalize = (text: string | null) => (text === null || text === '<insufficient privilege>' ? null : identifier.identify(text).sql)

  return {
    async snapshot() {
      const started = performance.now()
      const takenAt = new Date()
      const unavailable: Unavailable[] = []
      const side = Promise.all([
        readPool(options.metricsUrl, timeoutMs, unavailable),
        readPgBouncer(options.pgbouncerUrl, timeoutMs, unavailable),
      ])
      let database: DatabaseInfo = {
        description: target.description,
        kind: target.kind,
        name: null,
        role: null,
        superuser: null,
        serverVersion: null,
      }
      let connections: ConnectionSummary | null = null
      let sessions: Session[] = []
      let lockTrees: LockTree[] = []
      let statements: StatementsReport
      try {
        const db = await connect()
        const server = (await db.query<ServerRow>(SERVER_SQL)).rows[0]
        if (!server) throw new Error('the current role is not in pg_roles')
        database = { ...database, name: server.database, role: server.role, superuser: server.superuser, serverVersion: server.version }
        if (target.kind === 'embedded') {
          unavailable.push(...EMBEDDED_UNAVAILABLE)
          statements = { available: false, reason: 'pg_stat_statements is not available in the embedded PGlite database', rows: [] }
        } else {
          const collected = await readSessions(db, server, normalize)
          sessions = collected.sessions
          lockTrees = collected.lockTrees
          connections = summarizeConnections(sessions, {
            maxConnections: server.max_connections,
            reserved: server.superuser_reserved + server.reserved,
          })
          unavailable.push(...privilegeGaps(server, sessions))
          statements = await readStatements(db, server, options.limit, normalize, unavailable)
        }
      } catch (error) {
        await closeQuietly(client)
        client = undefined
        throw error
      }
      const [pool, pgbouncer] = await side
      const findings = findActivityIssues({ sessions, connections, lockTrees, pool, pgbouncer }, options.thresholds)
      return {
        takenAt: takenAt.toISOString(),
        collectMs: Math.round((performance.now() - started) * 10) / 10,
        database,
        connections,
        sessions,
        oldestTransactions: oldestTransactions(sessions, options.limit),
        longestQueries: longestQueries(sessions, options.limit),
        lockTrees,
        pool,
        pgbouncer,
        statements,
        findings,
        unavailable,
      }
    },
    async close() {
      await closeQuietly(client)
      client = undefined
    },
  }
}

const EMBEDDED_UNAVAILABLE: Unavailable[] = [
  {
    what: 'sessions, connection counts and lock chains',
    why: "the embedded PGlite database runs one backend; its clients share it through opsctl's socket server and are not PostgreSQL sessions",
    hint: 'Point DATABASE_URL (or --database-url) at a PostgreSQL server to see its activity.',
  },
  { what: 'cancel and terminate', why: 'the embedded database has no other backend to signal' },
]

interface ActivityRow {
  pid: number
  leader_pid: number | null
  datname: string | null
  usename: string | null
  application_name: string | null
  client_addr: string | null
  backend_type: string | null
  state: string | null
  backend_start: Date | null
  xact_start: Date | null
  query_start: Date | null
  state_change: Date | null
  wait_event_type: string | null
  wait_event: string | null
  query: string | null
  blocked_by: number[] | null
  now: Date
}

interface LockRow {
  pid: number
  locktype: string
  mode: string
  granted: boolean
  relation: string | null
  page: number | null
  tuple: number | null
  transaction_id: string | null
  virtual_xid: string | null
  object_key: string
  wait_start: Date | null
}

async function readSessions(
  db: pg.Client,
  server: ServerRow,
  normalize: (text: string | null) => string | null,
): Promise<{ sessions: Session[]; lockTrees: LockTree[] }> {
  const rows = (await db.query<ActivityRow>(activitySql(server.version_num))).rows
  const nowMs = rows[0]?.now.getTime() ?? Date.now()
  const raw: RawSession[] = rows.map((row) => ({
    pid: row.pid,
    leaderPid: row.leader_pid,
    database: row.datname,
    user: row.usename,
    application: row.application_name,
    clientAddr: row.client_addr,
    backendType: row.backend_type,
    state: row.state,
    backendStart: row.backend_start,
    xactStart: row.xact_start,
    queryStart: row.query_start,
    stateChange: row.state_change,
    waitEventType: row.wait_event_type,
    waitEvent: row.wait_event,
    query: normalize(row.query),
    blockedBy: row.blocked_by ?? [],
  }))
  const sessions = toSessions(raw, nowMs)
  const involved = new Set<number>()
  for (const session of sessions) {
    if (session.blockedBy.length === 0) continue
    involved.add(session.pid)
    for (const pid of session.blockedBy) involved.add(pid)
  }
  if (involved.size === 0) return { sessions, lockTrees: [] }
  const lockRows = (await db.query<LockRow>(locksSql(server.version_num), [[...involved]])).rows
  const locks: RawLock[] = lockRows.map((row) => ({
    pid: row.pid,
    locktype: row.locktype,
    mode: row.mode,
    granted: row.granted,
    relation: row.relation,
    page: row.page,
    tuple: row.tuple,
    transactionId: row.transaction_id,
    virtualXid: row.virtual_xid,
    objectKey: row.object_key,
    waitStart: row.wait_start,
  }))
  // Blockers that are not client sessions (autovacuum, a prepared transaction) still appear in the tree.
  const known = new Set(sessions.map((session) => session.pid))
  const others = toSessions(
    raw.filter((row) => involved.has(row.pid) && !known.has(row.pid)),
    nowMs,
    { anyType: true },
  )
  return { sessions, lockTrees: buildLockTrees([...sessions, ...others], locks, nowMs) }
}

/** What a role without superuser or pg_read_all_stats cannot see or do, said once each. */
function privilegeGaps(server: ServerRow, sessions: readonly Session[]): Unavailable[] {
  const gaps: Unavailable[] = []
  const hidden = sessions.filter((session) => !session.visible).length
  if (hidden > 0) {
    gaps.push({
      what: `state, client address, times and statement of ${hidden} session${hidden === 1 ? '' : 's'} of other roles`,
      why: `role ${server.role} is not a superuser and lacks pg_read_all_stats`,
      hint: `GRANT pg_read_all_stats TO ${server.role};`,
    })
  }
  const others = sessions.some((session) => session.user !== server.role)
  if (others && !server.superuser && !server.signal_backend) {
    gaps.push({
      what: "cancel and terminate of other roles' sessions",
      why: `role ${server.role} is neither a superuser nor a member of pg_signal_backend (or of those roles)`,
      hint: `GRANT pg_signal_backend TO ${server.role};`,
    })
  }
  return gaps
}

interface StatementRowSql {
  query: string | null
  calls: string | number
  total_ms: number
  mean_ms: number
  rows: string | number
  shared_blks_hit: string | number
  shared_blks_read: string | number
  all_ms: number
}

async function readStatements(
  db: pg.Client,
  server: ServerRow,
  limit: number,
  normalize: (text: string | null) => string | null,
  unavailable: Unavailable[],
): Promise<StatementsReport> {
  const schema = (await db.query<{ schema: string }>(STATEMENTS_EXTENSION_SQL)).rows[0]?.schema
  if (schema === undefined) {
    const preloaded = await preloadedLibraries(db)
    const loaded = preloaded?.split(',').some((name) => name.trim() === 'pg_stat_statements')
    return {
      available: false,
      reason: `pg_stat_statements is not installed in database ${server.database}`,
      hint: loaded
        ? 'CREATE EXTENSION pg_stat_statements; in this database (the library is already preloaded).'
        : "Add pg_stat_statements to shared_preload_libraries (ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', then a restart), then CREATE EXTENSION pg_stat_statements; in this database.",
      rows: [],
    }
  }
  let rows: StatementRowSql[]
  try {
    rows = (await db.query<StatementRowSql>(statementsSql(schema, server.version_num), [limit])).rows
  } catch (error) {
    const message = (error as Error).message
    return {
      available: false,
      reason: `pg_stat_statements cannot be read: ${message}`,
      hint: /shared_preload_libraries/.test(message)
        ? "Add pg_stat_statements to shared_preload_libraries (ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements') and restart PostgreSQL."
        : `GRANT pg_read_all_stats TO ${server.role};`,
      rows: [],
    }
  }
  let since: string | null = null
  try {
    since = (await db.query<{ stats_reset: Date | null }>(statementsResetSql(schema))).rows[0]?.stats_reset?.toISOString() ?? null
  } catch {
    // pg_stat_statements_info came with PostgreSQL 14 (extension 1.9): without it, no reset time.
  }
  const hidden = rows.filter((row) => row.query === null || row.query === '<insufficient privilege>').length
  if (hidden > 0) {
    unavailable.push({
      what: `the text of ${hidden} of the top statements`,
      why: `they belong to other roles, and role ${server.role} lacks pg_read_all_stats`,
      hint: `GRANT pg_read_all_stats TO ${server.role};`,
    })
  }
  return {
    available: true,
    since,
    rows: rows.map((row) => {
      const hit = Number(row.shared_blks_hit)
      const read = Number(row.shared_blks_read)
      return {
        query: normalize(row.query),
        calls: Number(row.calls),
        totalMs: row.total_ms,
        meanMs: row.mean_ms,
        rows: Number(row.rows),
        share: row.all_ms > 0 ? row.total_ms / row.all_ms : 0,
        hitRatio: hit + read > 0 ? hit / (hit + read) : null,
      }
    }),
  }
}

/** shared_preload_libraries, or undefined when this role may not read it (it needs pg_read_all_settings). */
async function preloadedLibraries(db: pg.Client): Promise<string | undefined> {
  try {
    return (await db.query<{ libraries: string }>(PRELOAD_SQL)).rows[0]?.libraries
  } catch {
    return undefined
  }
}

async function readPool(url: string | undefined, timeoutMs: number, unavailable: Unavailable[]): Promise<PoolMetrics | null> {
  if (!url) return null
  const source = redactText(url)
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain' } })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    const length = Number(response.headers.get('content-length') ?? 0)
    if (length > MAX_METRICS_BYTES) throw new Error(`the page is ${length} bytes, more than a service's metrics`)
    const text = await response.text()
    if (text.length > MAX_METRICS_BYTES) throw new Error(`the page is ${text.length} bytes, more than a service's metrics`)
    const reading = readPoolMetrics(text, source)
    if (reading.ok) return reading.pool
    unavailable.push({
      what: "the service's pool",
      why: reading.reason,
      hint: 'See docs/activity.md for the pg_pool_* metrics a service exports.',
    })
  } catch (error) {
    unavailable.push({
      what: "the service's pool",
      why: `${source} could not be read: ${redactText((error as Error).message)}`,
      hint: 'Check that the service is running, or set activity.metricsUrl (--metrics-url).',
    })
  }
  return null
}

async function readPgBouncer(url: string | undefined, timeoutMs: number, unavailable: Unavailable[]): Promise<PgBouncerPool[] | null> {
  if (!url) return null
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs })
  admin.on('error', () => {})
  try {
    await admin.connect()
    const result = await admin.query('SHOW POOLS')
    const parsed = parseShowPools(
      result.fields.map((field) => field.name),
      result.rows as Array<Record<string, unknown>>,
    )
    if (typeof parsed === 'string') throw new Error(parsed)
    if (parsed.skipped.rows > 0) {
      unavailable.push({ what: `${parsed.skipped.rows} rows of SHOW POOLS`, why: parsed.skipped.reasons.join('; ') })
    }
    return parsed.pools
  } catch (error) {
    unavailable.push({
      what: 'PgBouncer pools',
      why: `SHOW POOLS at ${redactText(url)} failed: ${redactText((error as Error).message)}`,
      hint: 'The URL names the admin console (database pgbouncer) and a user in admin_users or stats_users.',
    })
    return null
  } finally {
    await closeQuietly(admin)
  }
}

async function closeQuietly(client: pg.Client | undefined): Promise<void> {
  await client?.end().catch(() => {})
}
