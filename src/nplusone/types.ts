/** One statement execution, from any source: the live hook, a server log, a trace, a service query log. */
export interface QueryExecution {
  /** The statement text as executed (may contain literal values). */
  sql: string
  /** Bound parameter values, when the source shows them. Printed only with --show-params. */
  params?: readonly string[]
  /** Milliseconds, when known. */
  durationMs?: number
  /** Epoch milliseconds at which the statement started / ended, when known. */
  startMs?: number
  endMs?: number
  rows?: number
  /** The unit of work the source knows for sure: a request (live hook), a trace and its request span. */
  unit?: UnitRef
  /** A database session (backend pid, session id, client); units are then cut by transactions and idle gaps. */
  session?: string
  /** The server process that ran it, when the source names it apart from the session (a log with %c, csvlog, jsonlog). */
  pid?: number
  /** Who ran it, when known: `user@database`, an application name. Labels session units. */
  origin?: string
  /** Where in the application the statement was issued, e.g. `src/store/orders.ts:73`. */
  callSite?: string
  /** Set when the statement failed: a short message. Failed statements feed `db top`, not the detector. */
  error?: string
  /** SQLSTATE of the failure, when known. */
  errorCode?: string
}

/** A failure a source saw, with or without the statement that failed (for `db top`). */
export interface QueryFailure {
  message: string
  code?: string
  sql?: string
  session?: string
  atMs?: number
}

/** Where sources deliver what they read. */
export interface ExecutionSink {
  execution(execution: QueryExecution): void
  failure?(failure: QueryFailure): void
  /** The session ended (disconnection): its open unit can be closed. */
  endSession?(session: string): void
}

export interface UnitRef {
  kind: 'request' | 'trace' | 'session'
  /** Identifies the unit within the source: request id, `traceId/spanId`, `session@start`. */
  id: string
  /** What a person recognises: `GET /users/:id/orders`, a span name, `postgres@shop pid 4242`. */
  label?: string
  traceId?: string
  /** Traces: the request span (nearest SERVER or CONSUMER ancestor) the unit is. */
  spanId?: string
}

export interface NPlusOneOptions {
  /** Executions of one fingerprint within one unit that make an N+1 (default 5). */
  minRepeats?: number
  /** Their total time must reach this (ms, default 0). Ignored when durations are unknown (count-only). */
  minTotalMs?: number
  /** A pause this long in a session without a transaction open ends the unit (ms, default 50). */
  idleGapMs?: number
  /** Fingerprints (16 hex digits) or globs over the normalised SQL (`*`, `?`; case and whitespace ignored). */
  ignore?: readonly string[]
  /** Keep up to three sample parameter lists per pattern (never shown otherwise). */
  showParams?: boolean
  /** Units given by the source (requests, traces) are closed after this long without a statement (ms, default 60s). */
  unitTimeoutMs?: number
  /** Occurrences listed per pattern, those with the most repeats first; the others are counted (default: config nplusone.maxOccurrences). */
  maxOccurrences?: number
}

/** One occurrence of a pattern: a unit of work in which it repeated, and how often. */
export interface UnitSummary {
  kind: UnitRef['kind']
  /** Request id (live hook), `traceId/spanId` of the request span (traces), `session@startedAt` (server logs). */
  id: string
  label?: string
  traceId?: string
  /** The request span the trace's queries belong to (its nearest SERVER or CONSUMER span). */
  spanId?: string
  /** Server logs and connections without a request: the session (process id, or %c session id) and its process id. */
  session?: string
  pid?: number
  /** ISO 8601 UTC: start of the unit's first statement and end of its last one, when known. */
  startedAt?: string
  endedAt?: string
  /** Executions of the pattern in this unit, and their total time. */
  count: number
  totalMs?: number
  /** Where the application issued them (the most frequent call site in this unit), when the source knows it. */
  callSite?: string
}

export type NPlusOneOccurrence = UnitSummary

export interface FixSuggestion {
  /** One sentence: what to do. */
  summary: string
  /** The batched statement (`= ANY($1)`), derived from the parse tree. */
  batched?: string
  /** The statement joined with the query that produced the ids, when that query is visible. */
  joined?: string
}

export interface NPlusOnePattern {
  fingerprint: string
  /** Normalised SQL: literals and parameters as $n. */
  sql: string
  /** false when the SQL is the lexical fallback (the PostgreSQL parser rejected it). */
  parsed: boolean
  kind: string
  /** Units in which the pattern occurred, executions in them, the most in one unit. */
  units: number
  executions: number
  maxPerUnit: number
  /** Total and mean time over the flagged executions; undefined in count-only mode. */
  totalMs?: number
  meanMs?: number
  /** The unit with the most executions. */
  worstUnit: UnitSummary
  /**
   * Every unit the pattern occurred in, in time order, up to `maxOccurrences` (those with the most
   * repeats are kept); `occurrencesOmitted` counts the rest, so that occurrences + omitted = units.
   */
  occurrences: NPlusOneOccurrence[]
  occurrencesOmitted: number
  /** The routes, span names or sessions it occurred in, most frequent first (at most five). */
  where: Array<{ label: string; units: number }>
  /** The statement just before the repeats in the same unit: usually the one that produced the ids. */
  producer?: { fingerprint: string; sql: string }
  callSite?: string
  fix: FixSuggestion
  /** Only with showParams: up to three parameter lists (or raw statements, for the simple protocol). */
  samples?: string[][]
}

export interface SkipTally {
  lines: number
  reasons: Record<string, number>
  /** The first skipped lines (location and reason), to point at. */
  examples: Array<{ at: string; reason: string }>
}

export interface SourceSummary {
  kind: 'log' | 'otlp' | 'service-log' | 'live'
  /** File name, or `stdin`. */
  name: string
  /** stderr, csvlog, jsonlog, otlp-json, otlp-jsonl, opsctl-jsonl. */
  format: string
  bytes: number
  lines: number
  /** Log records (a record may span several lines) or spans read. */
  records: number
  /** Statements handed to the detector, and failed statements. */
  statements: number
  errors: number
  skipped: SkipTally
  /** Other tallies worth knowing: protocol steps, connection spans, spans without SQL. */
  notes: Record<string, number>
}

export interface NPlusOneReport {
  patterns: NPlusOnePattern[]
  totals: {
    executions: number
    units: number
    fingerprints: number
    /** Executions identified by the lexical fallback. */
    lexical: number
    /** Whether any execution had a duration; without, the detector counted only. */
    timed: boolean
  }
  options: Required<Omit<NPlusOneOptions, 'ignore'>> & { ignore: string[] }
  sources: SourceSummary[]
  warnings: string[]
}

export interface TopStatement {
  fingerprint: string
  sql: string
  parsed: boolean
  calls: number
  /** Calls with a known duration; the times below are over those. */
  timedCalls: number
  totalMs?: number
  meanMs?: number
  p95Ms?: number
  maxMs?: number
  rows?: number
  errors: number
  /** Share of the total time of all statements, 0..1. */
  share?: number
}

export interface TopError {
  /** SQLSTATE when the log has it (%e, csvlog, jsonlog). */
  code?: string
  /** The message with values masked. */
  message: string
  count: number
  /** The statement that failed most often with it, normalised. */
  sql?: string
}

export interface TopReport {
  statements: TopStatement[]
  errors: TopError[]
  totals: { calls: number; fingerprints: number; totalMs?: number; errors: number; lexical: number; firstAt?: string; lastAt?: string }
  sortedBy: 'total' | 'calls' | 'mean' | 'p95'
  sources: SourceSummary[]
  warnings: string[]
}
