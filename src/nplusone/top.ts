import { DurationHistogram } from './histogram.js'
import { QueryIdentifier, type QueryIdentity } from './identity.js'
import { detach } from './lexical.js'
import type { QueryExecution, QueryFailure, TopError, TopReport, TopStatement } from './types.js'

export type TopSort = TopReport['sortedBy']

interface StatementAccumulator {
  identity: QueryIdentity
  calls: number
  timedCalls: number
  totalMs: number
  maxMs: number
  rows: number
  rowCounts: number
  errors: number
  histogram: DurationHistogram
}

interface ErrorAccumulator {
  code?: string
  message: string
  count: number
  statements: Map<string, number>
}

const MAX_ERROR_KINDS = 10_000

/**
 * pgBadger's "queries by total time" from any source: calls, total, mean, p95 and max per
 * fingerprint, and errors by SQLSTATE and message. Pure and streaming: memory grows with
 * distinct fingerprints, not with executions.
 */
export class StatementStats {
  private readonly statements = new Map<string, StatementAccumulator>()
  private readonly errorKinds = new Map<string, ErrorAccumulator>()
  private calls = 0
  private lexical = 0
  private errorCount = 0
  private firstMs = Infinity
  private lastMs = -Infinity

  constructor(private readonly identifier: QueryIdentifier = new QueryIdentifier()) {}

  add(execution: QueryExecution): void {
    if (execution.error !== undefined) {
      this.failure({ message: execution.error, sql: execution.sql, ...(execution.errorCode ? { code: execution.errorCode } : {}) })
      return
    }
    const identity = this.identifier.identify(execution.sql)
    const stats = this.statementFor(identity)
    this.calls++
    if (!identity.parsed) this.lexical++
    stats.calls++
    const at = execution.startMs ?? execution.endMs
    if (at !== undefined) {
      if (at < this.firstMs) this.firstMs = at
      const end = execution.endMs ?? at
      if (end > this.lastMs) this.lastMs = end
    }
    if (execution.durationMs !== undefined) {
      stats.timedCalls++
      stats.totalMs += execution.durationMs
      if (execution.durationMs > stats.maxMs) stats.maxMs = execution.durationMs
      stats.histogram.add(execution.durationMs)
    }
    if (execution.rows !== undefined) {
      stats.rows += execution.rows
      stats.rowCounts++
    }
  }

  failure(failure: QueryFailure): void {
    this.errorCount++
    const message = maskErrorMessage(failure.message)
    const key = `${failure.code ?? ''}\u0000${message}`
    let kind = this.errorKinds.get(key)
    if (!kind) {
      if (this.errorKinds.size >= MAX_ERROR_KINDS) return
      kind = { ...(failure.code ? { code: detach(failure.code) } : {}), message: detach(message), count: 0, statements: new Map() }
      this.errorKinds.set(detach(key), kind)
    }
    kind.count++
    if (failure.sql) {
      const identity = this.identifier.identify(failure.sql)
      this.statementFor(identity).errors++
      if (kind.statements.size < 32 || kind.statements.has(identity.sql))
        kind.statements.set(identity.sql, (kind.statements.get(identity.sql) ?? 0) + 1)
    }
  }

  private statementFor(identity: QueryIdentity): StatementAccumulator {
    let stats = this.statements.get(identity.fingerprint)
    if (!stats) {
      stats = {
        identity,
        calls: 0,
        timedCalls: 0,
        totalMs: 0,
        maxMs: 0,
        rows: 0,
        rowCounts: 0,
        errors: 0,
        histogram: new DurationHistogram(),
      }
      this.statements.set(identity.fingerprint, stats)
    }
    return stats
  }

  finish(options: { limit?: number; sortBy?: TopSort } = {}): Pick<TopReport, 'statements' | 'errors' | 'totals' | 'sortedBy'> {
    const sortBy = options.sortBy ?? 'total'
    const grandTotal = [...this.statements.values()].reduce((sum, stats) => sum + stats.totalMs, 0)
    const timed = [...this.statements.values()].some((stats) => stats.timedCalls > 0)
    const rows: TopStatement[] = [...this.statements.values()].map((stats) => {
      const hasTime = stats.timedCalls > 0
      return {
        fingerprint: stats.identity.fingerprint,
        sql: stats.identity.sql,
        parsed: stats.identity.parsed,
        calls: stats.calls,
        timedCalls: stats.timedCalls,
        ...(hasTime
          ? {
              totalMs: round(stats.totalMs),
              meanMs: round(stats.totalMs / stats.timedCalls),
              p95Ms: round(stats.histogram.quantile(0.95) ?? 0),
              maxMs: round(stats.maxMs),
              share: grandTotal > 0 ? Math.round((stats.totalMs / grandTotal) * 10_000) / 10_000 : 0,
            }
          : {}),
        ...(stats.rowCounts > 0 ? { rows: stats.rows } : {}),
        errors: stats.errors,
      }
    })
    const key: Record<TopSort, (row: TopStatement) => number> = {
      total: (row) => (timed ? (row.totalMs ?? 0) : row.calls),
      calls: (row) => row.calls,
      mean: (row) => row.meanMs ?? 0,
      p95: (row) => row.p95Ms ?? 0,
    }
    rows.sort((a, b) => key[sortBy](b) - key[sortBy](a) || b.calls - a.calls || a.fingerprint.localeCompare(b.fingerprint))
    const errors: TopError[] = [...this.errorKinds.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, options.limit ?? 20)
      .map((kind) => {
        const sql = [...kind.statements.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]
        return { ...(kind.code ? { code: kind.code } : {}), message: kind.message, count: kind.count, ...(sql ? { sql } : {}) }
      })
    return {
      statements: rows.slice(0, options.limit ?? 20),
      errors,
      sortedBy: sortBy,
      totals: {
        calls: this.calls,
        fingerprints: this.statements.size,
        ...(timed ? { totalMs: round(grandTotal) } : {}),
        errors: this.errorCount,
        lexical: this.lexical,
        ...(this.firstMs !== Infinity
          ? { firstAt: new Date(this.firstMs).toISOString(), lastAt: new Date(this.lastMs).toISOString() }
          : {}),
      },
    }
  }
}

/** Error messages without the values in them: quoted literals and numbers masked, names kept. */
export function maskErrorMessage(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/'(?:[^']|'')*'/g, "'?'")
    .replace(/(: )"[^"]*"$/, '$1"?"')
    .replace(/(?<![\w$])-?\d+(\.\d+)?(?![\w])/g, '?')
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
