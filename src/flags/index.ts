// Feature flags on Unleash: flags.yaml as code served to any Unleash SDK, a driver for a real
// Unleash server, kill switches and stale-flag hygiene. What commands and other modules use;
// tests import the internals directly.
export {
  changeFlag,
  findStale,
  flagsFilePath,
  importFlags,
  listFlags,
  pushFlags,
  showFlag,
  switchFlag,
  validateFlags,
  type FlagAction,
  type RecordedChange,
  type StaleResult,
} from './flag-service.js'
export {
  renderChange,
  renderFlag,
  renderFlagList,
  renderImport,
  renderPush,
  renderReload,
  renderServeStarted,
  renderStale,
  renderValidation,
  reloadRecord,
  serveSummary,
} from './render.js'
export { DEFAULT_FLAG_SERVER_PORT, startFlagServer, type FlagServer, type FlagServerOptions, type ReloadEvent } from './server.js'
export { flagServerOptions } from './serve-options.js'
