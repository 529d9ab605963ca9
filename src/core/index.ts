export { BugError, ExitCode, OpsError, badInput, environmentError, isOpsError, type OpsErrorOptions } from './errors.js'
export { REDACTED, isSecretKey, redactText, redactValue } from './redact.js'
export { formatBytes, formatDuration, parseDuration, parsePercent, parseSize } from './units.js'
export { fixedClock, systemClock, type Clock } from './clock.js'
export { configJsonSchema, configSchema, type Config } from './config-schema.js'
export {
  CONFIG_FILE_NAME,
  STATE_DIR_NAME,
  configLeaves,
  envNameOf,
  findConfigFile,
  loadConfig,
  type LoadConfigOptions,
  type Settings,
} from './config.js'
export {
  createProgress,
  isInteractive,
  progressBar,
  palette,
  renderTable,
  sparkline,
  stripAnsi,
  type Column,
  type Palette,
  type Progress,
  type ProgressListener,
  type ProgressUpdate,
  type TerminalStream,
} from './output.js'
export {
  closestKey,
  describeSchemaIssues,
  formatKeyPath,
  locate,
  objectKeysAt,
  parseYamlText,
  positionOf,
  readYamlFile,
  scalarAt,
  unwrapSchema,
  validateYaml,
  type LocatedYaml,
  type SchemaFileOptions,
  type YamlPath,
  type YamlPosition,
} from './yaml-file.js'
export { JsonSyntaxError, parseJsonText, type JsonObject, type JsonParseOptions, type JsonValue, type ParsedJson } from './json-text.js'
export { formatLocalTime, localZone, type LocalTimeOptions } from './time.js'
export { isProcessAlive } from './process.js'
export { randomInt, seededRandom, type Random } from './random.js'
export { combineVerdicts, exitCodeOf, pass, verdict, verdictLabel, type Verdict, type VerdictStatus } from './verdict.js'
export { escapeHtml, escapeMarkdown, markdownTable } from './escape.js'
