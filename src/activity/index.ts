// Database activity: connections, lock chains, pool pressure, PgBouncer and top statements in one
// snapshot; cancel and terminate with a permission check and a journal event.
export {
  openActivitySource,
  takeActivitySnapshot,
  withActivitySource,
  type ActivityOptions,
  type ActivitySource,
  type ActivityTarget,
} from './collect.js'
export { activityOptions, watchInterval, type ActivityFlagValues } from './options.js'
export { activityVerdict } from './verdict.js'
export { renderActivity, renderSignalPlan, renderSignalResult } from './render.js'
export {
  parsePid,
  signalConfiguredSession,
  signalSession,
  type SignalAction,
  type SignalIO,
  type SignalPlan,
  type SignalResult,
} from './signal.js'
export {
  STATE_ORDER,
  age,
  connectionsLine,
  countsLine,
  cut,
  headline,
  lockTreeLines,
  pgbouncerLine,
  poolLine,
  queryText,
  statesLine,
  statementLine,
  type TreeLine,
} from './view.js'
export { FINDING_KINDS, type ActivitySnapshot, type Finding, type FindingKind, type LockTree, type Unavailable } from './model.js'
