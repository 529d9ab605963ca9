// The explain module's face: EXPLAIN a statement or read a plan, findings, index advice, plan diffs and their verdict.
export { DEFAULT_TIMEOUT_MS, diffAgainstBaseline, diffPlanFiles, explainPlanFile, explainStatement } from './explain.js'
export { readStatementInput } from './input.js'
export { DEFAULT_DIFF_RULES, diffPlans, planDiffVerdict, type PlanDiff } from './diff.js'
export { findPlanIssues, type Finding } from './findings.js'
export { type PlanModel, type PlanNode } from './model.js'
export { parsePlanDocument } from './plan-source.js'
export { renderApplyStatements, renderExplainMarkdown, renderExplainReport, renderPlanDiff, renderPlanDiffMarkdown } from './render.js'
