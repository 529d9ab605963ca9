/**
 * The database side shared by the runner and the advisor: one connection, one transaction that is
 * always rolled back, planner settings as SET LOCAL, and PostgreSQL errors turned into OpsErrors
 * with the right exit code (statement problems 2, environment 3, timeout 4).
 */
import pg from 'pg'
import { ExitCode, OpsError, badInput, environmentError, redactText } from '../core/index.js'
import { lineColumn, pointAt } from './statement.js'
import { redactParameterValues } from './scrub.js'

export interface PlannerSetting {
  name: string
  value: string
}

/** Planner settings --set accepts: they change how a plan is chosen or run, nothing else. */
const PLANNER_SETTINGS = new Set([
  'work_mem',
  'hash_mem_multiplier',
  'effective_cache_size',
  'effective_io_concurrency',
  'random_page_cost',
  'seq_page_cost',
  'cpu_tuple_cost',
  'cpu_index_tuple_cost',
  'cpu_operator_cost',
  'parallel_setup_cost',
  'parallel_tuple_cost',
  'min_parallel_table_scan_size',
  'min_parallel_index_scan_size',
  'max_parallel_workers_per_gather',
  'parallel_leader_participation',
  'jit',
  'jit_above_cost',
  'jit_inline_above_cost',
  'jit_optimize_above_cost',
  'join_collapse_limit',
  'from_collapse_limit',
  'geqo',
  'geqo_threshold',
  'plan_cache_mode',
  'constraint_exclusion',
  'cursor_tuple_fraction',
  'track_io_timing',
  'search_path',
])

/** "work_mem=64kB" -> { name, value }, refused unless it is a planner setting. */
export function parsePlannerSetting(text: string): PlannerSetting {
  const match = /^\s*([a-z_]+)\s*=\s*(.+?)\s*$/.exec(text)
  if (!match) throw badInput(`Invalid --set "${text}": expected NAME=VALUE`, 'For example --set work_mem=64kB or --set enable_seqscan=off.')
  const [, name, value] = match as unknown as [string, string, string]
  if (!PLANNER_SETTINGS.has(name) && !/^enable_[a-z_]+$/.test(name)) {
    throw badInput(
      `--set ${name} is not allowed: only planner settings can be changed for the explain`,
      `Use one of enable_*, ${[...PLANNER_SETTINGS].join(', ')}.`,
    )
  }
  if (value.length > 200) throw badInput(`--set ${name}: the value is too long`)
  return { name, value: value.replace(/^'(.*)'$/, '$1') }
}

export interface Session {
  client: pg.Client
  serverVersion: number
}

/**
 * Runs `work` inside BEGIN ... ROLLBACK on a fresh connection, with statement_timeout and the
 * planner settings set LOCAL. Whatever `work` does (INSERT, CREATE EXTENSION, hypothetical
 * indexes) is undone, and the connection is closed.
 */
export async function withRolledBackTransaction<T>(
  options: { url: string; timeoutMs: number; settings: readonly PlannerSetting[]; params?: readonly string[] },
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: options.url, application_name: 'opsctl explain', connectionTimeoutMillis: 10_000 })
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    throw databaseError(error, { params: options.params ?? [] })
  }
  try {
    await client.query('BEGIN')
    await client.query(`SELECT set_config('statement_timeout', $1, true)`, [`${Math.max(1, Math.round(options.timeoutMs))}ms`])
    for (const setting of options.settings) {
      try {
        await client.query('SELECT set_config($1, $2, true)', [setting.name, setting.value])
      } catch (error) {
        const failure = databaseError(error, { params: [] })
        throw new OpsError(`--set ${setting.name}=${setting.value}: ${failure.message}`, { exit: failure.exit, hint: failure.hint })
      }
    }
    const version = await client.query<{ server_version_num: string }>('SHOW server_version_num')
    return await work({ client, serverVersion: Number(version.rows[0]?.server_version_num ?? 0) })
  } catch (error) {
    if (error instanceof OpsError || !isDatabaseError(error)) throw error
    throw databaseError(error, { params: options.params ?? [] })
  } finally {
    await client.query('ROLLBACK').catch(() => {})
    await client.end().catch(() => {})
  }
}

/** An error from the server or the network (it has a SQLSTATE or a system error code), not a bug of ours. */
export function isDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return (
    error instanceof pg.DatabaseError ||
    (typeof code === 'string' && code.length > 0) ||
    /Connection terminated|timeout expired/i.test(String((error as Error).message))
  )
}

const ENVIRONMENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
])

export interface StatementPosition {
  /** Characters in front of the statement in the text sent (the "EXPLAIN (...) " prefix). */
  prefixLength: number
  statement: string
}

/** A pg or network error as an OpsError: message with the position in the statement, parameter values redacted. */
export function databaseError(error: unknown, context: { params: readonly string[]; position?: StatementPosition }): OpsError {
  const failure = error as Error & { code?: string; position?: string; detail?: string; hint?: string }
  const message = redactText(redactParameterValues(failure.message ?? String(error), context.params))
  const code = failure.code ?? ''
  if (ENVIRONMENT_NODE_CODES.has(code) || /timeout expired|Connection terminated/i.test(failure.message ?? '')) {
    return environmentError(
      `Cannot reach the database: ${message}`,
      'Check that PostgreSQL is running and DATABASE_URL (or --database-url) points at it.',
      error,
    )
  }
  if (code === '42501') {
    return environmentError(
      `Permission denied: ${message}`,
      'Connect as a role that may read (and, with ANALYZE, write) the tables involved, or GRANT the privilege to this role.',
      error,
    )
  }
  if (code === '57014') {
    return new OpsError(`The statement was cancelled: ${message}`, {
      exit: ExitCode.InvalidMeasurement,
      hint: 'Allow it longer with --timeout (e.g. --timeout 2m), or look at the estimated plan with --no-analyze.',
      cause: error,
    })
  }
  if (/^(08|28|3D|53|57|58|XX)/.test(code)) {
    return environmentError(`The database refused: ${message}`, 'Check the server, the database name and the role in DATABASE_URL.', error)
  }
  let where = ''
  if (failure.position && context.position) {
    const index = Number(failure.position) - 1 - context.position.prefixLength
    if (index >= 0 && index <= context.position.statement.length) {
      where = ` at ${lineColumn(context.position.statement, index)}\n${redactParameterValues(pointAt(context.position.statement, index), context.params)}`
    }
  }
  const detail = failure.detail ? ` (${redactParameterValues(failure.detail, context.params)})` : ''
  return new OpsError(`PostgreSQL rejected the statement: ${message}${detail}${where}`, {
    exit: ExitCode.BadInput,
    hint: failure.hint ? redactParameterValues(failure.hint, context.params) : 'Fix the statement (or its --param values) and try again.',
    cause: error,
  })
}

/** A query whose JSON result stays text, so the duplicate-keeping parser sees it as PostgreSQL wrote it. */
export async function queryRawJson(client: pg.Client, text: string, values: readonly string[]): Promise<string> {
  const result = await client.query<Record<string, string>>({
    text,
    values: [...values],
    types: { getTypeParser: () => (value: string) => value },
  })
  const row = result.rows[0]
  const value = row ? Object.values(row)[0] : undefined
  if (typeof value !== 'string') throw new OpsError('EXPLAIN returned no plan', { exit: ExitCode.CheckFailed })
  return value
}
