// N+1 query detection and statement summaries from three sources (live hook on pg, PostgreSQL
// server logs, OTLP traces) with one pure detector. Other modules, commands and services import
// this file only, and it exports only what they use; tests import the internals directly.

// Commands, the gate and the demo.
export { findNPlusOne, summarizeStatements, type QuerySources } from './find.js'
export { nplusoneOptions } from './config.js'
export { nplusoneVerdict } from './verdict.js'
export { renderNPlusOneReport, renderTopReport, type ReportFormat } from './render.js'
export type { TopSort } from './top.js'
export type { NPlusOneReport, QueryExecution } from './types.js'

// Fingerprints for db activity's statements.
export { QueryIdentifier, loadQueryParser } from './identity.js'

// The live hook, as services use it (docs/nplusone.md "The live hook"; the reference service).
export { instrumentPg, type InstrumentPgOptions, type PgInstrumentation } from './live/instrument.js'
export { bindToUnitOfWork, createUnitOfWork, runInUnitOfWork, type UnitOfWork } from './live/unit-of-work.js'
export { createJsonLinesSink, createQueryRecorder, type JsonLinesSink, type QueryRecorder } from './live/recorder.js'
