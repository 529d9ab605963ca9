export {
  DEFAULT_TIMEOUT_MS,
  diffAgainstBaseline,
  diffPlanFiles,
  explainPlanFile,
  explainPlanText,
  explainStatement,
  type ExplainReport,
  type ExplainSource,
  type ExplainStatementOptions,
} from './explain.js'
export { readStatementInput, type StatementInput } from './input.js'
export { DEFAULT_DIFF_RULES, diffPlans, type AccessChange, type NodeTypeChange, type PlanDiff, type PlanDiffRules, type PlanSide } from './diff.js'
export { DEFAULT_THRESHOLDS, findPlanIssues, niceWorkMem, type Finding, type FindingCode, type FindingContext, type Severity, type TableStatistics, type Thresholds } from './findings.js'
export { buildPlanModel, findPlanRoot, rowEstimate, type Buffers, type PlanModel, type PlanNode, type RowEstimate } from './model.js'
export { parseJsonKeepingDuplicates, JsonSyntaxError, type JsonObject, type JsonValue, type ParsedJson } from './plan-json.js'
export { parseTextPlan, type ParsedTextPlan } from './plan-text.js'
export { parsePlanDocument } from './plan-source.js'
export { checkStatement, type CheckedStatement } from './statement.js'
export { coveredByIndex, indexCandidates, type CandidateResult, type IndexCandidate, type TableRef } from './candidates.js'
export { DEFAULT_MIN_SAVING, adviseIndexes, createConcurrently, rankSuggestions, type IndexAdvice, type IndexSuggestion, type RejectedCandidate } from './advisor.js'
export { runExplain, type ExplainRun } from './runner.js'
export { parsePlannerSetting, type PlannerSetting } from './session.js'
export { redactParameterValues, scrubParameterValues } from './scrub.js'
export { conditionColumns } from './conditions.js'
export {
  renderAdvice,
  renderApplyStatements,
  renderExplainMarkdown,
  renderExplainReport,
  renderFindings,
  renderPlanDiff,
  renderPlanDiffMarkdown,
  renderPlanTree,
} from './render.js'
