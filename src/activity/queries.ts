/**
 * The SQL of a snapshot, for the PostgreSQL versions opsctl supports (10 and up): columns that
 * came later (leader_pid 13, pg_locks.waitstart 14, reserved_connections 16, total_exec_time 13)
 * are chosen by server_version_num. Every statement reads catalog views only.
 */

export const SERVER_SQL = `
SELECT current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS version,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS superuser_reserved,
       coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int AS reserved,
       current_user AS role,
       current_database() AS database,
       r.rolsuper AS superuser,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS read_all_stats,
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal_backend
  FROM pg_roles r
 WHERE r.rolname = current_user`

export function activitySql(versionNum: number): string {
  return `
SELECT a.pid,
       ${versionNum >= 130000 ? 'a.leader_pid' : 'NULL::int AS leader_pid'},
       a.datname, a.usename, a.application_name, host(a.client_addr) AS client_addr, a.backend_type, a.state,
       a.backend_start, a.xact_start, a.query_start, a.state_change, a.wait_event_type, a.wait_event, a.query,
       pg_blocking_pids(a.pid) AS blocked_by,
       statement_timestamp() AS now
  FROM pg_stat_activity a
 WHERE a.pid <> pg_backend_pid()`
}

/** The locks of the sessions in lock chains; relations named when they are in this database. */
export function locksSql(versionNum: number): string {
  return `
SELECT l.pid, l.locktype, l.mode, l.granted,
       CASE WHEN l.relation IS NULL THEN NULL
            WHEN l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) THEN l.relation::regclass::text
            ELSE 'oid ' || l.relation::text END AS relation,
       l.page, l.tuple, l.transactionid::text AS transaction_id, l.virtualxid AS virtual_xid,
       concat_ws(':', l.locktype, l.database, l.relation, l.page, l.tuple, l.virtualxid, l.transactionid, l.classid, l.objid, l.objsubid) AS object_key,
       ${versionNum >= 140000 ? 'l.waitstart' : 'NULL::timestamptz'} AS wait_start
  FROM pg_locks l
 WHERE l.pid = ANY($1::int[])`
}

export const STATEMENTS_EXTENSION_SQL = `
SELECT n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_stat_statements'`

export function statementsSql(schema: string, versionNum: number): string {
  const total = versionNum >= 130000 ? 'total_exec_time' : 'total_time'
  const mean = versionNum >= 130000 ? 'mean_exec_time' : 'mean_time'
  return `
SELECT query, calls, ${total} AS total_ms, ${mean} AS mean_ms, rows, shared_blks_hit, shared_blks_read,
       sum(${total}) OVER () AS all_ms
  FROM ${quoteIdentifier(schema)}.pg_stat_statements
 ORDER BY ${total} DESC
 LIMIT $1`
}

export function statementsResetSql(schema: string): string {
  return `SELECT stats_reset FROM ${quoteIdentifier(schema)}.pg_stat_statements_info`
}

export const PRELOAD_SQL = `SELECT current_setting('shared_preload_libraries') AS libraries`

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** The target of cancel/terminate and what the server lets this role do to it. */
export const SIGNAL_TARGET_SQL = `
SELECT a.pid, a.usename, a.application_name, a.datname, a.state, a.backend_type, a.query,
       a.usesysid IS NOT NULL AS has_role,
       coalesce(t.rolsuper, false) AS target_superuser,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       CASE WHEN a.usesysid IS NULL THEN false ELSE pg_has_role(current_user, a.usesysid, 'USAGE') END AS member_of_target,
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal_backend,
       current_user AS role
  FROM pg_stat_activity a LEFT JOIN pg_roles t ON t.oid = a.usesysid
 WHERE a.pid = $1`
