// N+1 query detection and statement summaries from three sources (live hook on pg, PostgreSQL
// server logs, OTLP traces) with one pure detector. Other modules import this file only.
export { findNPlusOne, summarizeStatements, readQuerySources, type QuerySources, type ReadOptions } from './find.js'
export { NPlusOneDetector, DEFAULT_OPTIONS as NPLUSONE_DEFAULTS, detectNPlusOne } from './detect.js'
export { StatementStats, maskErrorMessage, type TopSort } from './top.js'
export { QueryIdentifier, loadQueryParser, type QueryIdentity, type StatementKind } from './identity.js'
export { compileIgnoreList } from './ignore.js'
export { lexicalKey, lexicalNormalize, literalValues, tidySql } from './lexical.js'
export { suggestFix } from './fix.js'
export { checkNPlusOneBudget, renderNPlusOneMarkdown, renderNPlusOneReport, renderTopReport, type ReportFormat } from './render.js'
export { DEBIAN_PREFIX, TimestampParser, compilePrefix } from './sources/pglog-prefix.js'
export { readPgLog, sniffLogFormat, type LogFormat } from './sources/pglog.js'
export { readOtlp } from './sources/otlp.js'
export { readServiceLog } from './sources/service-log.js'
export { instrumentPg, type InstrumentPgOptions, type PgInstrumentation, type PgModuleLike } from './live/instrument.js'
export { bindToUnitOfWork, createUnitOfWork, currentUnitOfWork, nameUnitOfWork, runInUnitOfWork, type UnitOfWork } from './live/unit-of-work.js'
export { createJsonLinesSink, createQueryRecorder, type JsonLinesSink, type QueryRecorder } from './live/recorder.js'
export type {
  ExecutionSink,
  FixSuggestion,
  NPlusOneOptions,
  NPlusOnePattern,
  NPlusOneReport,
  QueryExecution,
  QueryFailure,
  SourceSummary,
  TopError,
  TopReport,
  TopStatement,
  UnitRef,
  UnitSummary,
} from './types.js'
export { nplusoneConfigOf, nplusoneOptions, type NPlusOneConfig, type NPlusOneFlagValues } from './config.js'
