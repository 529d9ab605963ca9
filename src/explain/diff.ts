/**
 * Plan regressions: what changed between two plans of the same statement (access paths, node
 * types, cost, time, findings) and whether that is a regression. Pure.
 *
 * The rule (documented in `opsctl db plan-diff --help`): a regression is
 *   - the planner's total cost rising by more than maxCostRatio (default 1.5x), or
 *   - the execution time rising by more than maxTimeRatio (default 2x) and by at least minTimeMs
 *     (default 1 ms, so that noise on sub-millisecond queries does not fail a build), when both
 *     plans were analyzed, or
 *   - a finding of warning or critical severity in AFTER that BEFORE did not have.
 * Access-path changes such as "Index Scan became Seq Scan" are reported; they fail the check
 * through the rules above (they usually raise the cost and bring a seq-scan finding).
 */
import { verdict, type Verdict } from '../core/index.js'
import type { Finding } from './findings.js'
import type { PlanModel, PlanNode } from './model.js'

export interface PlanDiffRules {
  maxCostRatio: number
  maxTimeRatio: number
  minTimeMs: number
}

export const DEFAULT_DIFF_RULES: PlanDiffRules = { maxCostRatio: 1.5, maxTimeRatio: 2, minTimeMs: 1 }

export interface PlanSide {
  label: string
  plan: PlanModel
  findings: Finding[]
}

export interface AccessChange {
  /** "items" or "items i". */
  relation: string
  before: string[]
  after: string[]
  /** An index access that became a sequential scan. */
  lostIndex: boolean
}

export interface NodeTypeChange {
  /** Child positions from the root, e.g. "0.1". */
  path: string
  before: string
  after: string
}

export interface PlanDiff {
  before: { label: string; totalCost: number; executionTime: number | null; nodes: number; analyzed: boolean }
  after: { label: string; totalCost: number; executionTime: number | null; nodes: number; analyzed: boolean }
  costRatio: number | null
  timeRatio: number | null
  accessChanges: AccessChange[]
  nodeTypeChanges: NodeTypeChange[]
  newFindings: Finding[]
  resolvedFindings: Finding[]
  rules: PlanDiffRules
  /** Why this is a regression; empty when it is not. */
  regressions: string[]
  regression: boolean
}

export function diffPlans(before: PlanSide, after: PlanSide, rules: Partial<PlanDiffRules> = {}): PlanDiff {
  const limits = { ...DEFAULT_DIFF_RULES, ...rules }
  const costRatio = before.plan.totalCost > 0 ? after.plan.totalCost / before.plan.totalCost : null
  const beforeTime = before.plan.executionTime
  const afterTime = after.plan.executionTime
  const timeRatio = beforeTime !== null && afterTime !== null && beforeTime > 0 ? afterTime / beforeTime : null

  const keyOf = (finding: Finding, plan: PlanModel) => {
    const node = finding.nodeId === null ? null : plan.nodes[finding.nodeId]
    return `${finding.code}|${node ? (node.relation ? `${node.relation} ${node.alias ?? ''}` : node.nodeType) : 'plan'}`
  }
  const beforeKeys = new Set(before.findings.map((finding) => keyOf(finding, before.plan)))
  const afterKeys = new Set(after.findings.map((finding) => keyOf(finding, after.plan)))
  const newFindings = after.findings.filter((finding) => !beforeKeys.has(keyOf(finding, after.plan)))
  const resolvedFindings = before.findings.filter((finding) => !afterKeys.has(keyOf(finding, before.plan)))

  const regressions: string[] = []
  if (costRatio !== null && costRatio > limits.maxCostRatio) {
    regressions.push(
      `total cost rose ${costRatio.toFixed(2)}x (${round(before.plan.totalCost)} -> ${round(after.plan.totalCost)}), above the ${limits.maxCostRatio}x limit`,
    )
  }
  if (timeRatio !== null && timeRatio > limits.maxTimeRatio && afterTime! - beforeTime! >= limits.minTimeMs) {
    regressions.push(
      `execution time rose ${timeRatio.toFixed(2)}x (${round(beforeTime!)} ms -> ${round(afterTime!)} ms), above the ${limits.maxTimeRatio}x limit`,
    )
  }
  for (const finding of newFindings) {
    if (finding.severity !== 'info') regressions.push(`new ${finding.severity} finding on ${finding.node}: ${finding.title}`)
  }

  return {
    before: summary(before),
    after: summary(after),
    costRatio,
    timeRatio,
    accessChanges: accessChanges(before.plan, after.plan),
    nodeTypeChanges: nodeTypeChanges(before.plan, after.plan),
    newFindings,
    resolvedFindings,
    rules: limits,
    regressions,
    regression: regressions.length > 0,
  }
}

function summary(side: PlanSide): PlanDiff['before'] {
  return {
    label: side.label,
    totalCost: side.plan.totalCost,
    executionTime: side.plan.executionTime,
    nodes: side.plan.nodes.length,
    analyzed: side.plan.analyzed,
  }
}

/** How each relation is read: "Seq Scan", "Index Scan using items_sku_idx", "Bitmap Heap Scan using items_sku_idx". */
function accessPaths(plan: PlanModel): Map<string, string[]> {
  const paths = new Map<string, string[]>()
  for (const node of plan.nodes) {
    if (!node.relation || node.nodeType === 'ModifyTable') continue
    const key = node.alias && node.alias !== node.relation ? `${node.relation} ${node.alias}` : node.relation
    let access = node.nodeType
    const index = node.index ?? bitmapIndexes(plan, node)
    if (index) access += ` using ${index}`
    paths.set(key, [...(paths.get(key) ?? []), access])
  }
  return paths
}

function bitmapIndexes(plan: PlanModel, node: PlanNode): string | null {
  if (node.nodeType !== 'Bitmap Heap Scan') return null
  const names: string[] = []
  const visit = (id: number) => {
    const child = plan.nodes[id]!
    if (child.index) names.push(child.index)
    child.children.forEach(visit)
  }
  node.children.forEach(visit)
  return names.length > 0 ? names.join(', ') : null
}

function accessChanges(before: PlanModel, after: PlanModel): AccessChange[] {
  const old = accessPaths(before)
  const now = accessPaths(after)
  const changes: AccessChange[] = []
  for (const relation of new Set([...old.keys(), ...now.keys()])) {
    const was = (old.get(relation) ?? []).sort()
    const is = (now.get(relation) ?? []).sort()
    if (was.join('|') === is.join('|')) continue
    const usedIndex = was.some((access) => access.includes(' using '))
    const seqNow = is.some((access) => access.startsWith('Seq Scan'))
    changes.push({ relation, before: was, after: is, lostIndex: usedIndex && seqNow && !is.some((access) => access.includes(' using ')) })
  }
  return changes
}

function nodeTypeChanges(before: PlanModel, after: PlanModel): NodeTypeChange[] {
  const changes: NodeTypeChange[] = []
  const visit = (a: PlanNode, b: PlanNode, path: string) => {
    if (a.label !== b.label && (a.nodeType !== b.nodeType || a.index !== b.index || a.joinType !== b.joinType)) {
      changes.push({ path, before: a.label, after: b.label })
    }
    const count = Math.min(a.children.length, b.children.length)
    for (let i = 0; i < count; i++) visit(before.nodes[a.children[i]!]!, after.nodes[b.children[i]!]!, `${path}.${i}`)
  }
  if (before.nodes[0] && after.nodes[0]) visit(before.nodes[0], after.nodes[0], '0')
  return changes
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}

/** A plan diff's verdict: a regression fails, with each reason. */
export function planDiffVerdict(diff: Pick<PlanDiff, 'regression' | 'regressions'>): Verdict {
  if (!diff.regression) return verdict('pass')
  return verdict(
    'fail',
    diff.regressions.map((reason) => `plan regression: ${reason}`),
    { hint: 'Look at the changed nodes above; a missing index or stale statistics (ANALYZE) are the usual causes.' },
  )
}
