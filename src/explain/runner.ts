/**
 * Adapter: runs EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON) for one checked statement inside a
 * transaction that is always rolled back, and reads the statistics of the tables involved (for the
 * "stale statistics" cause of a misestimate) before it runs.
 */
import { badInput } from '../core/index.js'
import { referencedTables } from './candidates.js'
import { quoteIdent } from './conditions.js'
import type { TableStatistics } from './findings.js'
import type { CheckedStatement } from './statement.js'
import { databaseError, queryRawJson, withRolledBackTransaction, type PlannerSetting, type Session } from './session.js'

export interface RunExplainOptions {
  url: string
  statement: CheckedStatement
  params: readonly string[]
  analyze: boolean
  verbose?: boolean
  timeoutMs: number
  settings: readonly PlannerSetting[]
}

export interface ExplainRun {
  /** EXPLAIN's JSON, as PostgreSQL wrote it. */
  planJson: string
  serverVersion: number
  tables: Record<string, TableStatistics>
}

export function checkParams(statement: CheckedStatement, params: readonly string[]): void {
  if (params.length < statement.paramCount) {
    throw badInput(
      `The statement uses $1..$${statement.paramCount} but ${params.length === 0 ? 'no --param was given' : `only ${params.length} --param value${params.length === 1 ? ' was' : 's were'} given`}`,
      `Give one --param per placeholder, in order: ${Array.from({ length: statement.paramCount }, (_, i) => `--param <$${i + 1}>`).join(' ')}.`,
    )
  }
  if (params.length > statement.paramCount) {
    throw badInput(
      `Got ${params.length} --param values but the statement uses ${statement.paramCount === 0 ? 'no placeholders' : `only $1..$${statement.paramCount}`}`,
      'Remove the extra --param values.',
    )
  }
}

export function explainOptions(analyze: boolean, serverVersion: number, verbose = false): string {
  const options = analyze ? ['ANALYZE', 'BUFFERS'] : serverVersion >= 130000 ? ['BUFFERS'] : []
  if (verbose) options.push('VERBOSE')
  if (serverVersion >= 120000) options.push('SETTINGS')
  options.push('FORMAT JSON')
  return `EXPLAIN (${options.join(', ')}) `
}

export async function runExplain(options: RunExplainOptions): Promise<ExplainRun> {
  checkParams(options.statement, options.params)
  return withRolledBackTransaction(options, async ({ client, serverVersion }) => {
    const tables = await readTableStatistics(client, options.statement)
    const prefix = explainOptions(options.analyze, serverVersion, options.verbose)
    try {
      const planJson = await queryRawJson(client, prefix + options.statement.text, options.params)
      return { planJson, serverVersion, tables }
    } catch (error) {
      throw databaseError(error, { params: options.params, position: { prefixLength: prefix.length, statement: options.statement.text } })
    }
  })
}

/** n_live_tup, n_mod_since_analyze and reltuples of the statement's tables; nothing on failure. */
async function readTableStatistics(client: Session['client'], statement: CheckedStatement): Promise<Record<string, TableStatistics>> {
  const names = referencedTables(statement.tree).map((table) =>
    table.schema ? `${quoteIdent(table.schema)}.${quoteIdent(table.name)}` : quoteIdent(table.name),
  )
  if (names.length === 0) return {}
  await client.query('SAVEPOINT opsctl_statistics')
  try {
    const result = await client.query<{
      schema: string
      name: string
      live: string
      modified: string
      reltuples: number
      analyzed: Date | null
    }>(
      `SELECT n.nspname AS schema, c.relname AS name, coalesce(s.n_live_tup, 0) AS live, coalesce(s.n_mod_since_analyze, 0) AS modified,
              c.reltuples, greatest(s.last_analyze, s.last_autoanalyze) AS analyzed
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
        WHERE c.oid IN (SELECT to_regclass(name)::oid FROM unnest($1::text[]) AS name)`,
      [names],
    )
    await client.query('RELEASE SAVEPOINT opsctl_statistics')
    const out: Record<string, TableStatistics> = {}
    for (const row of result.rows) {
      const stats: TableStatistics = {
        liveRows: Number(row.live),
        modifiedSinceAnalyze: Number(row.modified),
        rowsAtLastAnalyze: Number(row.reltuples),
        lastAnalyze: row.analyzed ? new Date(row.analyzed).toISOString() : null,
      }
      out[`${row.schema}.${row.name}`] = stats
      out[row.name] ??= stats
    }
    return out
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT opsctl_statistics')
    return {}
  }
}
