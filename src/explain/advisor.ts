/**
 * Adapter: the index advisor. Candidates come from the statement's parse tree; each is created as a
 * hypothetical index with HypoPG and the statement is planned again (plain EXPLAIN, nothing runs),
 * on one connection inside a transaction that is rolled back. Hypothetical indexes live only in
 * that session, and if HypoPG had to be created for the occasion, the rollback removes it again:
 * the advisor leaves nothing behind.
 */
import { buildPlanModel, findPlanRoot, type PlanModel } from './model.js'
import { coveredByIndex, indexCandidates, type IndexCandidate, type TableRef } from './candidates.js'
import { quoteIdent } from './conditions.js'
import { parseJsonText } from '../core/index.js'
import { checkParams, explainOptions } from './runner.js'
import { databaseError, queryRawJson, withRolledBackTransaction, type PlannerSetting, type Session } from './session.js'
import type { CheckedStatement } from './statement.js'

export type HypoPgStatus = 'installed' | 'temporary' | 'unavailable' | 'not-permitted'

export interface IndexSuggestion extends IndexCandidate {
  /** Planner's total cost of the statement without and with the hypothetical index. */
  costBefore: number
  costAfter: number
  /** 1 - after / before. */
  saving: number
  /** HypoPG's estimate of the index size in bytes. */
  estimatedSizeBytes: number | null
  /** The plan nodes that used the hypothetical index. */
  usedBy: string[]
  /** What --apply prints: never run by opsctl. */
  createStatement: string
}

export interface RejectedCandidate extends IndexCandidate {
  costAfter: number | null
  saving: number | null
  reason: string
}

export interface IndexAdvice {
  /** verified: tried with HypoPG; unverified: HypoPG missing, candidates listed untried. */
  status: 'verified' | 'unverified'
  hypopg: HypoPgStatus
  message: string
  baselineCost: number | null
  /** Candidates that cut the cost by at least minSaving, best first. */
  suggestions: IndexSuggestion[]
  rejected: RejectedCandidate[]
  /** Without HypoPG: the candidates, not tried. */
  unverified: IndexCandidate[]
  /** Minimum cost reduction (share) for a suggestion. */
  minSaving: number
}

export interface AdviseOptions {
  url: string
  statement: CheckedStatement
  params: readonly string[]
  settings: readonly PlannerSetting[]
  timeoutMs: number
  /** A candidate must cut the planner's total cost by at least this share (default 0.2). */
  minSaving?: number
}

export const DEFAULT_MIN_SAVING = 0.2

export async function adviseIndexes(options: AdviseOptions): Promise<IndexAdvice> {
  checkParams(options.statement, options.params)
  const minSaving = options.minSaving ?? DEFAULT_MIN_SAVING
  return withRolledBackTransaction(options, async (session) => {
    const catalog = await readCatalog(session, indexCandidates(options.statement.tree).tables)
    const { candidates } = indexCandidates(options.statement.tree, { columnsOf: (table) => catalog.columns.get(tableKey(table)) })
    const rejected: RejectedCandidate[] = []
    const fresh = candidates.filter((candidate) => {
      const existing = catalog.indexes.get(tableKey({ schema: candidate.schema, name: candidate.relation })) ?? []
      if (!coveredByIndex(candidate, existing)) return true
      rejected.push({ ...candidate, costAfter: null, saving: null, reason: 'an existing index already starts with these columns' })
      return false
    })

    const hypopg = await ensureHypoPg(session)
    const plan = (text: string) => planCost(session, options, text)
    const baseline = await plan('')
    if (hypopg === 'unavailable' || hypopg === 'not-permitted') {
      return {
        status: 'unverified',
        hypopg,
        message:
          hypopg === 'unavailable'
            ? 'HypoPG is not available on this server, so the candidates below are untried. Install it (Debian/Ubuntu: postgresql-<version>-hypopg) to have them verified.'
            : 'HypoPG is available on the server but this role may not create the extension, so the candidates below are untried. Ask an administrator to run CREATE EXTENSION hypopg.',
        baselineCost: baseline.cost,
        suggestions: [],
        rejected,
        unverified: fresh,
        minSaving,
      }
    }

    const tried: IndexSuggestion[] = []
    for (const candidate of fresh) {
      await session.client.query('SAVEPOINT opsctl_candidate')
      try {
        const created = await session.client.query<{ indexrelid: number; indexname: string }>(
          'SELECT indexrelid, indexname FROM hypopg_create_index($1)',
          [candidate.definition],
        )
        const hypothetical = created.rows[0]!
        const after = await plan(hypothetical.indexname)
        const size = await session.client.query<{ size: string }>('SELECT hypopg_relation_size($1) AS size', [hypothetical.indexrelid])
        await session.client.query('SELECT hypopg_reset()')
        await session.client.query('RELEASE SAVEPOINT opsctl_candidate')
        tried.push({
          ...candidate,
          costBefore: baseline.cost,
          costAfter: after.cost,
          saving: baseline.cost > 0 ? 1 - after.cost / baseline.cost : 0,
          estimatedSizeBytes: size.rows[0] ? Number(size.rows[0].size) : null,
          usedBy: after.usedBy,
          createStatement: createConcurrently(candidate),
        })
      } catch (error) {
        await session.client.query('ROLLBACK TO SAVEPOINT opsctl_candidate')
        await session.client.query('SELECT hypopg_reset()').catch(() => {})
        rejected.push({
          ...candidate,
          costAfter: null,
          saving: null,
          reason: `HypoPG could not create it: ${databaseError(error, { params: options.params }).message}`,
        })
      }
    }

    const ranked = rankSuggestions(tried, baseline.cost, minSaving, rejected)
    const installed =
      hypopg === 'installed'
        ? ''
        : ' HypoPG was created for this session only, inside a transaction that was rolled back: nothing was installed.'
    return {
      status: 'verified',
      hypopg,
      message:
        (ranked.length > 0
          ? `${ranked.length} of ${fresh.length} candidate index${fresh.length === 1 ? '' : 'es'} cut the planner's cost by at least ${Math.round(minSaving * 100)}% (tried as hypothetical indexes with HypoPG).`
          : fresh.length > 0
            ? `None of the ${fresh.length} candidate indexes cut the planner's cost by ${Math.round(minSaving * 100)}% or more (tried with HypoPG).`
            : 'No index candidates: the statement has no filter, join or sort column an index could serve that is not indexed already.') +
        installed,
      baselineCost: baseline.cost,
      suggestions: ranked,
      rejected,
      unverified: [],
      minSaving,
    }
  })
}

/**
 * Best saving first; near ties (within 2% of the baseline) go to the narrower index. A candidate
 * that starts with the same column as a better one on the same table is redundant.
 */
export function rankSuggestions(
  tried: IndexSuggestion[],
  baselineCost: number,
  minSaving: number,
  rejected: RejectedCandidate[],
): IndexSuggestion[] {
  const sorted = [...tried].sort((a, b) =>
    Math.abs(a.costAfter - b.costAfter) <= 0.02 * baselineCost
      ? a.columns.length - b.columns.length || a.costAfter - b.costAfter
      : a.costAfter - b.costAfter,
  )
  const kept: IndexSuggestion[] = []
  for (const suggestion of sorted) {
    if (suggestion.saving < minSaving || suggestion.usedBy.length === 0) {
      rejected.push({
        ...stripSuggestion(suggestion),
        costAfter: suggestion.costAfter,
        saving: suggestion.saving,
        reason:
          suggestion.usedBy.length === 0 ? 'the planner did not use it' : `cuts the cost by only ${(suggestion.saving * 100).toFixed(1)}%`,
      })
      continue
    }
    const better = kept.find((other) => other.table === suggestion.table && firstColumn(other) === firstColumn(suggestion))
    if (better) {
      rejected.push({
        ...stripSuggestion(suggestion),
        costAfter: suggestion.costAfter,
        saving: suggestion.saving,
        reason: `redundant with the better ${better.table} (${better.columns.join(', ')})`,
      })
      continue
    }
    kept.push(suggestion)
  }
  return kept
}

function stripSuggestion(suggestion: IndexSuggestion): IndexCandidate {
  const { table, schema, relation, columns, reason, definition } = suggestion
  return { table, schema, relation, columns, reason, definition }
}

function firstColumn(candidate: IndexCandidate): string {
  return (candidate.columns[0] ?? '').replace(/ DESC$/, '')
}

export function createConcurrently(candidate: IndexCandidate): string {
  const bareColumns = candidate.columns.map((column) =>
    column
      .replace(/ DESC$/, '')
      .replace(/^"(.*)"$/, '$1')
      .replace(/\W+/g, '_'),
  )
  const name = `${candidate.relation}_${bareColumns.join('_')}_idx`.slice(0, 63)
  return `CREATE INDEX CONCURRENTLY ${quoteIdent(name)} ON ${candidate.table} (${candidate.columns.join(', ')});`
}

async function ensureHypoPg(session: Session): Promise<HypoPgStatus> {
  const installed = await session.client.query(`SELECT 1 FROM pg_extension WHERE extname = 'hypopg'`)
  if (installed.rowCount) return 'installed'
  const available = await session.client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'`)
  if (!available.rowCount) return 'unavailable'
  await session.client.query('SAVEPOINT opsctl_hypopg')
  try {
    // Undone by the transaction's rollback; the library stays loaded only in this session.
    await session.client.query('CREATE EXTENSION hypopg')
    await session.client.query('RELEASE SAVEPOINT opsctl_hypopg')
    return 'temporary'
  } catch {
    await session.client.query('ROLLBACK TO SAVEPOINT opsctl_hypopg')
    return 'not-permitted'
  }
}

async function planCost(
  session: Session,
  options: AdviseOptions,
  hypotheticalIndex: string,
): Promise<{ cost: number; usedBy: string[]; model: PlanModel }> {
  const prefix = explainOptions(false, 0)
  let text: string
  try {
    text = await queryRawJson(session.client, prefix + options.statement.text, options.params)
  } catch (error) {
    throw databaseError(error, { params: options.params, position: { prefixLength: prefix.length, statement: options.statement.text } })
  }
  const root = findPlanRoot(parseJsonText(text, { duplicates: 'collect' }).value)
  if (!root) throw new Error('EXPLAIN returned no plan')
  const model = buildPlanModel(root)
  const usedBy = hypotheticalIndex
    ? model.nodes.filter((node) => node.index === hypotheticalIndex).map((node) => `#${node.id} ${node.label}`)
    : []
  return { cost: model.totalCost, usedBy, model }
}

interface Catalog {
  columns: Map<string, string[]>
  indexes: Map<string, string[][]>
}

async function readCatalog(session: Session, tables: TableRef[]): Promise<Catalog> {
  const catalog: Catalog = { columns: new Map(), indexes: new Map() }
  for (const table of tables) {
    const name = table.schema ? `${quoteIdent(table.schema)}.${quoteIdent(table.name)}` : quoteIdent(table.name)
    const columns = await session.client.query<{ attname: string }>(
      'SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
      [name],
    )
    if (columns.rows.length > 0)
      catalog.columns.set(
        tableKey(table),
        columns.rows.map((row) => row.attname),
      )
    const indexes = await session.client.query<{ columns: string[] }>(
      `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = to_regclass($1) AND i.indisvalid AND i.indpred IS NULL
        GROUP BY i.indexrelid`,
      [name],
    )
    catalog.indexes.set(
      tableKey(table),
      indexes.rows.map((row) => row.columns.map((column) => column ?? '')),
    )
  }
  return catalog
}

function tableKey(table: TableRef): string {
  return `${table.schema ?? 'public'}.${table.name}`
}
