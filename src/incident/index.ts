// Incidents (event-sourced on the ops journal), runbooks and post-mortems. Other modules import this file only.
export {
  MAX_PAYLOAD_BYTES,
  alertmanagerPayloadSchema,
  cleanText,
  declarationFromPayload,
  parseAlertmanagerPayload,
  severityFromLabel,
  type AlertmanagerDeclaration,
  type AlertmanagerPayload,
  type FiringAlert,
} from './alertmanager.js'
export { escapeHtml, escapeMarkdown, renderHtml, renderMarkdown, type Block, type Inline } from './document.js'
export { findIncidentByRef, incidentIdFor } from './incident-id.js'
export {
  KNOWN_ROLES,
  actOnIncident,
  assignIncidentRole,
  incidentStatus,
  listIncidents,
  logIncidentNote,
  readIncidents,
  selectIncident,
  startIncident,
  type ActionRequest,
  type ActionResult,
  type IncidentListing,
  type IncidentOptions,
  type IncidentStatusReport,
  type NoteResult,
  type StartRequest,
  type StartResult,
} from './incidents.js'
export { findJsonSyntaxError } from './json-text.js'
export { METRIC_DEFINITIONS, computeMetrics, formatSpan, type IncidentMetric, type MetricName } from './metrics.js'
export {
  POSTMORTEM_SCHEMA,
  buildPostmortem,
  iso,
  postmortemBlocks,
  postmortemTitle,
  postmortemWindow,
  type Postmortem,
  type PostmortemOptions,
  type PostmortemSection,
  type Responder,
  type TimelineEntry,
} from './postmortem.js'
export { POSTMORTEM_FORMATS, generatePostmortem, renderPostmortem, type PostmortemFormat, type PostmortemOutput, type PostmortemRequest } from './postmortem-file.js'
export {
  localTime,
  renderAction,
  renderIncidentList,
  renderLintReport,
  renderNote,
  renderRole,
  renderRunbook,
  renderRunbookList,
  renderStart,
  renderStatus,
  renderStepPlan,
  renderStepResult,
} from './render.js'
export {
  REQUIRED_SECTIONS,
  RUNNABLE_LANGUAGES,
  findStep,
  formatProblem,
  parseRunbook,
  runbookMetaSchema,
  type ParsedRunbook,
  type Runbook,
  type RunbookMeta,
  type RunbookProblem,
  type RunbookSection,
  type RunbookStep,
} from './runbook-format.js'
export { globMatches, matchRunbooks, matchRunbooksByText, wordsOf, type AlertLike, type RunbookMatch } from './runbook-match.js'
export {
  MAX_RUNBOOK_BYTES,
  brokenRunbookError,
  findRunbook,
  findRunbookStep,
  lintRunbooks,
  loadRunbookLibrary,
  scaffoldRunbook,
  shippedRunbooksDir,
  type LintReport,
  type LintedFile,
  type RunbookLibrary,
  type ScaffoldRequest,
} from './runbooks.js'
export { SEVERITIES, SEVERITY_DEFINITIONS, parseSeverity, readSeverity, severityDefinition, severityHelp, type Severity, type SeverityDefinition } from './severity.js'
export {
  ACTION_KINDS,
  INCIDENT_STATUSES,
  incidentKeyOf,
  isTerminal,
  parseActionItems,
  planTransition,
  replayIncident,
  replayIncidents,
  type ActionItem,
  type Incident,
  type IncidentAction,
  type IncidentStatus,
  type Replay,
  type TransitionPlan,
} from './state.js'
export {
  OutputTail,
  planRunbookStep,
  runRunbookStep,
  terminalConfirm,
  type StepIO,
  type StepPlan,
  type StepRunRequest,
  type StepRunResult,
  type StepStatus,
} from './step-runner.js'
