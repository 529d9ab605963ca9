// The CI performance gate: one budget, one verdict, reports every CI understands.
export { gateEvents } from './events.js'
export { runGate, type GateOptions } from './run.js'
export { type CheckResult, type GateReport } from './model.js'
export { renderGateReport } from './report-terminal.js'
export { githubAnnotations, isGitHubActions } from './report-github.js'
