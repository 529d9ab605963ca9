/**
 * Glue: a statement (run against the database) or a plan document becomes one ExplainReport: the
 * plan model, its findings and, for a statement, the index advice.
 */
import { readFile } from 'node:fs/promises'
import { badInput } from '../core/index.js'
import { adviseIndexes, type IndexAdvice } from './advisor.js'
import { diffPlans, type PlanDiff, type PlanDiffRules } from './diff.js'
import { findPlanIssues, type Finding, type FindingContext, type Thresholds } from './findings.js'
import { buildPlanModel, findPlanRoot, type PlanModel } from './model.js'
import { parseJsonText } from '../core/index.js'
import { parsePlanDocument } from './plan-source.js'
import { runExplain } from './runner.js'
import { scrubParameterValues } from './scrub.js'
import { parsePlannerSetting } from './session.js'
import { checkStatement } from './statement.js'

export interface ExplainSource {
  kind: 'statement' | 'plan-file'
  /** The statement as explained ($n placeholders; parameter values are never kept). */
  statement: string | null
  statementKind: string | null
  file: string | null
  database: string | null
  serverVersion: number | null
  analyzed: boolean
  params: number
  /** --set planner settings, applied with SET LOCAL. */
  settings: Record<string, string>
}

export interface ExplainReport {
  source: ExplainSource
  plan: PlanModel
  findings: Finding[]
  advice: IndexAdvice | null
  notes: string[]
}

export interface ExplainStatementOptions {
  url: string
  /** Shown in the report instead of the URL (which may hold a password). */
  databaseDescription?: string
  sql: string
  params?: readonly string[]
  /** "work_mem=64kB" and the like, for the explain transaction only. */
  settings?: readonly string[]
  timeoutMs?: number
  analyze?: boolean
  verbose?: boolean
  advise?: boolean
  minSaving?: number
  thresholds?: Partial<Thresholds>
}

export const DEFAULT_TIMEOUT_MS = 30_000

export async function explainStatement(options: ExplainStatementOptions): Promise<ExplainReport> {
  const statement = await checkStatement(options.sql)
  const params = options.params ?? []
  const settings = (options.settings ?? []).map(parsePlannerSetting)
  const analyze = options.analyze ?? true
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const run = await runExplain({ url: options.url, statement, params, analyze, verbose: options.verbose, timeoutMs, settings })

  const parsed = parseJsonText(run.planJson, { duplicates: 'collect' })
  const root = findPlanRoot(scrubParameterValues(parsed.value, params))
  if (!root) throw new Error('EXPLAIN returned no plan')
  const plan = buildPlanModel(root, { format: 'json', duplicateKeys: parsed.duplicateKeys })
  const context: FindingContext = { tables: run.tables, serverVersion: run.serverVersion, thresholds: options.thresholds }
  const findings = findPlanIssues(plan, context)
  const advice =
    options.advise === false
      ? null
      : await adviseIndexes({ url: options.url, statement, params, settings, timeoutMs, minSaving: options.minSaving })

  const notes = [...statement.notes]
  if (analyze && statement.kind !== 'SELECT')
    notes.push(`The ${statement.kind} ran inside a transaction that was rolled back: no rows were changed.`)
  return {
    source: {
      kind: 'statement',
      statement: statement.text,
      statementKind: statement.kind,
      file: null,
      database: options.databaseDescription ?? null,
      serverVersion: run.serverVersion,
      analyzed: analyze,
      params: params.length,
      settings: Object.fromEntries(settings.map((setting) => [setting.name, setting.value])),
    },
    plan,
    findings,
    advice,
    notes,
  }
}

/** Pure: a plan document's text into a report. */
export function explainPlanText(text: string, source: string, thresholds?: Partial<Thresholds>): ExplainReport {
  const plan = parsePlanDocument(text, source)
  const notes: string[] = []
  if (plan.skipped.lines > 0) {
    notes.push(
      `Skipped ${plan.skipped.lines} line(s) the text parser did not understand: ${Object.entries(plan.skipped.reasons)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ')}.`,
    )
  }
  const duplicates = Object.entries(plan.duplicateKeys)
  if (duplicates.length > 0)
    notes.push(`Kept duplicate keys PostgreSQL repeated in one object: ${duplicates.map(([key, n]) => `"${key}" (${n}x)`).join(', ')}.`)
  return {
    source: {
      kind: 'plan-file',
      statement: null,
      statementKind: null,
      file: source,
      database: null,
      serverVersion: null,
      analyzed: plan.analyzed,
      params: 0,
      settings: {},
    },
    plan,
    findings: findPlanIssues(plan, { thresholds }),
    advice: null,
    notes,
  }
}

export async function explainPlanFile(path: string, thresholds?: Partial<Thresholds>): Promise<ExplainReport> {
  return explainPlanText(await readPlanFile(path), path, thresholds)
}

export async function readPlanFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as { code?: string }).code
    throw badInput(`Cannot read plan file ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, 'Check the path.')
  }
}

/** plan-diff with two plan files. */
export async function diffPlanFiles(
  beforePath: string,
  afterPath: string,
  rules?: Partial<PlanDiffRules>,
  thresholds?: Partial<Thresholds>,
): Promise<PlanDiff> {
  const before = await explainPlanFile(beforePath, thresholds)
  const after = await explainPlanFile(afterPath, thresholds)
  return diffPlans({ label: beforePath, ...before }, { label: afterPath, ...after }, rules)
}

/** plan-diff of a baseline plan file against the statement explained now. */
export async function diffAgainstBaseline(
  baselinePath: string,
  statement: ExplainStatementOptions,
  rules?: Partial<PlanDiffRules>,
): Promise<PlanDiff> {
  const before = await explainPlanFile(baselinePath, statement.thresholds)
  const after = await explainStatement({ ...statement, advise: false })
  return diffPlans({ label: baselinePath, ...before }, { label: 'live statement', ...after }, rules)
}
