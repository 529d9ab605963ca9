// Incidents (event-sourced on the ops journal), runbooks and post-mortems. Other modules and commands import this file only;
// tests import the internals directly.
export {
  KNOWN_ROLES,
  actOnIncident,
  assignIncidentRole,
  incidentStatus,
  listIncidents,
  logIncidentNote,
  readIncidents,
  startIncident,
  updateIncident,
  type IncidentStatusReport,
} from './incidents.js'
export { type Incident } from './state.js'
export { ACTION_ITEM_TYPES } from './events.js'
export { generatePostmortem } from './postmortem-file.js'
export { POSTMORTEM_FORMATS, type PostmortemFormat } from './postmortem-render.js'
export { receiverOptions, startAlertReceiver, type RequestReport } from './receiver.js'
export {
  renderAction,
  renderIncidentList,
  renderLintReport,
  renderNote,
  renderReceiverStarted,
  renderRequest,
  renderRole,
  renderRunbook,
  renderRunbookList,
  renderStart,
  renderStatus,
  renderStepPlan,
  renderStepResult,
  renderUpdate,
} from './render.js'
export { formatProblem } from './runbook-format.js'
export {
  brokenRunbookError,
  findRunbook,
  lintRunbooks,
  libraryVerdict,
  lintVerdict,
  loadRunbookLibrary,
  scaffoldRunbook,
  unreadableProblems,
} from './runbooks.js'
export { parseSeverity, severityHelp } from './severity.js'
export { runRunbookStep, stepVerdict, terminalConfirm } from './step-runner.js'
