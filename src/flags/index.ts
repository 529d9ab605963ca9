// Feature flags on Unleash: flags.yaml as code served to any Unleash SDK, a driver for a real
// Unleash server, kill switches and stale-flag hygiene. Other modules import this file only.
export type { EnvironmentView, FlagBackend, FlagListing, FlagView, StrategyView } from './backend.js'
export { clientFeaturesResponse, etagOf, toClientFeature, toClientFeatures, toClientVariants, type ClientConstraint, type ClientFeature, type ClientFeaturesResponse, type ClientStrategy, type ClientVariant } from './client-api.js'
export { effectiveRollout, planKill, planRollout, planSetEnabled, type FileEdit, type FlagChange, type FlagChangeKind } from './edit.js'
export { evaluateFeature, resolveContextValue, selectVariantDefinition, type Evaluation, type EvaluationContext, type EvaluationOptions, type VariantResult } from './evaluate.js'
export { fileFlagBackend } from './file-backend.js'
export { FLAGS_FILE_NAME, parseFlagsText, readFlagsFile, type LoadedFlags } from './load.js'
export {
  changeFlag,
  describeChange,
  findStale,
  flagStatePaths,
  flagsFilePath,
  listFlags,
  openFlagBackend,
  openJournalRecorder,
  showFlag,
  switchFlag,
  type FlagAction,
  type FlagChangeRecorder,
  type FlagCommandOptions,
  type RecordedChange,
  type StaleOptions,
  type StaleResult,
} from './manage.js'
export { addBucket, flagTotals, mergeMetrics, readFlagMetrics, type FlagMetrics } from './metrics.js'
export { murmurHash3x86, normalizedValue } from './murmur.js'
export { renderChange, renderFlag, renderFlagList, renderServeStarted, renderStale, type ServeSummary } from './render.js'
export { resolveReferences, scanSource, type FlagReference, type SourceScan } from './scan.js'
export { CONSTRAINT_OPERATORS, FLAG_LIFETIME_DAYS, FLAG_TYPES, STRATEGY_NAMES, flagsFileSchema, type FlagDefinition, type FlagType, type FlagsFile } from './schema.js'
export { compareSemVer, parseSemVer } from './semver.js'
export { DEFAULT_FLAG_SERVER_PORT, startFlagServer, type FlagServer, type FlagServerOptions, type ReloadEvent } from './server.js'
export { flagServerOptions } from './serve-options.js'
export { findStaleFlags, type StaleFinding, type StaleRule } from './stale.js'
export { generateToken, tokenEnvironment, tokensFromLists, type FlagTokens } from './tokens.js'
export { unleashAdminBackend, unleashApiBase, type UnleashAdminOptions } from './unleash-admin.js'
