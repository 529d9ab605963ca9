/**
 * A plan check: named statements EXPLAINed (ANALYZE, in a rolled-back transaction) on the
 * database, with a maximum cost, forbidden findings and forbidden nodes (a Seq Scan on a table
 * from N rows), and a plan diff against the stored baseline plan. The baseline is the EXPLAIN
 * (FORMAT JSON) document itself, so `opsctl db plan-diff` and any plan visualiser read it. Glue
 * over the explain module.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { combineVerdicts, verdict, type Config, type Verdict } from '../core/index.js'
import { withDatabase } from '../db/index.js'
import {
  diffPlans,
  explainStatement,
  findPlanIssues,
  parsePlanDocument,
  planDiffVerdict,
  renderPlanDiffMarkdown,
  type PlanDiff,
  type PlanModel,
  type PlanNode,
} from '../explain/index.js'
import { planBaselinePath, writeBaselineFile } from './baseline.js'
import type { CheckContext } from './context.js'
import type { CheckFile, CheckResult, Evidence } from './model.js'

export type ExplainCheck = Extract<Config['gate']['checks'][string], { type: 'explain' }>
type ForbiddenNode = ExplainCheck['forbid']['nodes'][number]

export interface StatementOutcome {
  statement: string
  totalCost: number
  executionTime: number | null
  nodes: string[]
  findings: string[]
  diff?: Pick<PlanDiff, 'costRatio' | 'accessChanges' | 'newFindings' | 'regressions' | 'regression'>
  verdict: Verdict
}

export async function runExplainCheck(name: string, check: ExplainCheck, context: CheckContext): Promise<Omit<CheckResult, 'durationMs'>> {
  const outcomes: StatementOutcome[] = []
  const evidence: Evidence[] = []
  const files: CheckFile[] = []
  const baselines: string[] = []
  let missing = 0
  await withDatabase(context.settings, async (database) => {
    for (const [statement, { sql, params }] of Object.entries(check.statements)) {
      if (context.signal.aborted) return
      const report = await explainStatement({
        url: database.url,
        databaseDescription: database.description,
        sql,
        params,
        analyze: check.analyze,
        advise: false,
      })
      const plan = report.plan
      const verdicts: Verdict[] = []
      const label = `${name}/${statement}`
      if (check.maxCost !== undefined && plan.totalCost > check.maxCost) {
        verdicts.push(verdict('fail', [`${label}: cost ${plan.totalCost.toFixed(2)} > budget ${check.maxCost}`]))
        evidence.push({
          message: `${label}: the planner's total cost is ${plan.totalCost.toFixed(2)}, above ${check.maxCost} (root: ${plan.nodes[0]?.label})`,
        })
      }
      for (const finding of report.findings.filter((item) => check.forbid.findings.includes(item.code))) {
        verdicts.push(verdict('fail', [`${label}: forbidden finding ${finding.code} on ${finding.node}`], { hint: finding.action }))
        evidence.push({ message: `${label}: ${finding.node}: ${finding.title}. ${finding.action}` })
      }
      for (const rule of check.forbid.nodes) {
        for (const node of plan.nodes.filter((item) => matchesRule(item, rule))) {
          verdicts.push(
            verdict(
              'fail',
              [`${label}: forbidden ${describeRule(rule)}: #${node.id} ${node.label} reads ${rowsRead(node).toLocaleString('en-US')} rows`],
              {
                hint: node.filter
                  ? `Index the filter of ${node.relation ?? 'the table'}: ${node.filter}.`
                  : 'Add an index the planner can use.',
              },
            ),
          )
          evidence.push({
            message: `${label}: plan node #${node.id} ${node.label} reads ${rowsRead(node).toLocaleString('en-US')} rows${node.filter ? `, filter ${node.filter}` : ''} (forbidden: ${describeRule(rule)})`,
          })
        }
      }
      const baselinePath = planBaselinePath(context.baselineDir, name, statement)
      let diff: PlanDiff | undefined
      if (context.updateBaseline && check.diff) {
        writeBaselineFile(baselinePath, JSON.stringify(planDocument(plan), null, 2))
        baselines.push(baselinePath)
      } else if (check.diff && existsSync(baselinePath)) {
        const before = parsePlanDocument(readFileSync(baselinePath, 'utf8'), baselinePath)
        // Time is left out: on a shared CI machine it moves from run to run; cost and findings do not.
        diff = diffPlans(
          { label: `baseline ${statement}`, plan: before, findings: findPlanIssues(before) },
          { label: `current ${statement}`, plan, findings: findPlanIssues(plan) },
          { maxTimeRatio: Number.POSITIVE_INFINITY, ...(check.maxCostRatio !== undefined ? { maxCostRatio: check.maxCostRatio } : {}) },
        )
        const diffFile = join(context.outDir, `${name}.${statement}.plan-diff.md`)
        mkdirSync(context.outDir, { recursive: true })
        writeFileSync(diffFile, `${renderPlanDiffMarkdown(diff)}\n`)
        files.push({ label: `plan diff ${statement}`, path: diffFile })
        const diffVerdict = planDiffVerdict(diff)
        verdicts.push(
          verdict(
            diffVerdict.status,
            diffVerdict.reasons.map((reason) => `${label}: ${reason}`),
            diffVerdict.hint ? { hint: diffVerdict.hint } : {},
          ),
        )
        if (diff.regression)
          evidence.push(...diff.regressions.map((reason) => ({ message: `${label}: plan regression against the baseline: ${reason}` })))
        baselines.push(baselinePath)
      } else if (check.diff) {
        missing++
      }
      outcomes.push({
        statement,
        totalCost: plan.totalCost,
        executionTime: plan.executionTime,
        nodes: plan.nodes.map((node) => node.label),
        findings: report.findings.map((finding) => `${finding.code} on ${finding.node}`),
        ...(diff
          ? {
              diff: {
                costRatio: diff.costRatio,
                accessChanges: diff.accessChanges,
                newFindings: diff.newFindings,
                regressions: diff.regressions,
                regression: diff.regression,
              },
            }
          : {}),
        verdict: combineVerdicts(verdicts),
      })
    }
  })
  let outcome = combineVerdicts(outcomes.map((item) => item.verdict))
  if (outcome.status === 'pass' && missing > 0 && !context.updateBaseline) {
    outcome = verdict(
      'inconclusive',
      [`${name}: no baseline plan for ${missing} statement${missing === 1 ? '' : 's'} in ${context.baselineDir}`],
      {
        hint: 'Take them with opsctl gate --update-baseline and commit them, or set diff: false on the check.',
      },
    )
  }
  const costs = outcomes.map(
    (item) =>
      `${item.statement} cost ${item.totalCost.toFixed(1)}${item.executionTime !== null ? ` (${item.executionTime.toFixed(2)}ms)` : ''}`,
  )
  return {
    name,
    type: 'explain',
    status: outcome.status,
    verdict: outcome,
    measured: costs.join(', ') || 'no statement',
    budget: [
      ...(check.maxCost !== undefined ? [`cost ≤ ${check.maxCost}`] : []),
      ...check.forbid.findings.map((code) => `no ${code}`),
      ...check.forbid.nodes.map((rule) => `no ${describeRule(rule)}`),
      ...(check.diff ? ['no plan regression against the baseline'] : []),
    ].join('; '),
    evidence: outcome.status === 'pass' ? [] : evidence,
    files,
    ...(baselines.length
      ? { baseline: { path: baselines.join(', '), state: context.updateBaseline ? ('updated' as const) : ('compared' as const) } }
      : {}),
    details: { statements: outcomes },
  }
}

/** Rows a node reads: for a scan, the rows it returned plus those its filter removed (the table); planned rows without ANALYZE. */
export function rowsRead(node: PlanNode): number {
  if (node.rowsTotal === null) return node.planRows
  return node.rowsTotal + node.removed.filter
}

export function matchesRule(node: PlanNode, rule: ForbiddenNode): boolean {
  if (node.nodeType.toLowerCase() !== rule.type.toLowerCase()) return false
  if (rule.relation !== undefined && node.relation !== rule.relation && `${node.schema}.${node.relation}` !== rule.relation) return false
  return rowsRead(node) >= rule.minRows
}

function describeRule(rule: ForbiddenNode): string {
  return `${rule.type}${rule.relation ? ` on ${rule.relation}` : ''}${rule.minRows ? ` from ${rule.minRows.toLocaleString('en-US')} rows` : ''}`
}

/** The plan as PostgreSQL's EXPLAIN (FORMAT JSON) document, rebuilt from the model (every property is kept). */
export function planDocument(plan: PlanModel): unknown[] {
  const build = (node: PlanNode): Record<string, unknown> => {
    const children = node.children.map((id) => build(plan.nodes[id]!))
    return { ...node.properties, ...(children.length ? { Plans: children } : {}) }
  }
  const root = plan.nodes[0]
  return [{ ...(root ? { Plan: build(root) } : {}), ...plan.properties }]
}
