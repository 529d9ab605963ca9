import type { PgBouncerPool } from './model.js'

/**
 * PgBouncer's `SHOW POOLS`, as rows of column name -> value (the admin console answers text;
 * pg parses its integer columns or leaves them strings). Columns changed across versions
 * (cl_cancel_req became cl_active_cancel_req and cl_waiting_cancel_req in 1.18; maxwait_us came
 * in 1.8): the required ones are read, the rest are optional. Pure.
 */
export interface PgBouncerPoolsParse {
  pools: PgBouncerPool[]
  skipped: { rows: number; reasons: string[] }
}

const REQUIRED = ['database', 'user', 'cl_active', 'cl_waiting', 'sv_active', 'sv_idle'] as const

/** The admin console's own pseudo-database: not a pool of the application. */
const ADMIN_DATABASE = 'pgbouncer'

export function parseShowPools(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): PgBouncerPoolsParse | string {
  const missing = REQUIRED.filter((name) => !columns.includes(name))
  if (missing.length > 0) {
    return `SHOW POOLS answered without ${missing.join(', ')} (columns: ${columns.slice(0, 20).join(', ') || 'none'}): is this a PgBouncer admin console?`
  }
  const pools: PgBouncerPool[] = []
  const skipped = { rows: 0, reasons: [] as string[] }
  rows.forEach((row, index) => {
    const database = textOf(row.database)
    const user = textOf(row.user)
    if (database === ADMIN_DATABASE) return
    const counts = {
      clientsActive: count(row.cl_active),
      clientsWaiting: count(row.cl_waiting),
      serversActive: count(row.sv_active),
      serversIdle: count(row.sv_idle),
      serversUsed: count(row.sv_used ?? 0),
      serversTested: count(row.sv_tested ?? 0),
      serversLogin: count(row.sv_login ?? 0),
      maxWaitSeconds: count(row.maxwait ?? 0),
      maxWaitMicros: count(row.maxwait_us ?? 0),
    }
    const bad = Object.entries(counts).find(([, value]) => value === undefined)
    if (database === undefined || user === undefined || bad) {
      skipped.rows++
      if (skipped.reasons.length < 5) {
        skipped.reasons.push(`row ${index + 1}: ${bad ? `${bad[0]} is not a count` : 'no database or user name'}`)
      }
      return
    }
    const value = (n: number | undefined) => n as number
    pools.push({
      database,
      user,
      clientsActive: value(counts.clientsActive),
      clientsWaiting: value(counts.clientsWaiting),
      serversActive: value(counts.serversActive),
      serversIdle: value(counts.serversIdle),
      serversUsed: value(counts.serversUsed),
      serversTested: value(counts.serversTested),
      serversLogin: value(counts.serversLogin),
      maxWaitMs: value(counts.maxWaitSeconds) * 1000 + value(counts.maxWaitMicros) / 1000,
      poolMode: textOf(row.pool_mode) ?? null,
    })
  })
  return { pools, skipped }
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** A non-negative integer from a number or its decimal text (int8 columns arrive as strings). */
function count(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN
  return Number.isSafeInteger(number) && number >= 0 ? number : undefined
}
