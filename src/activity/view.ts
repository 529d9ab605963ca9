/**
 * The wording of a snapshot, shared by the text renderer and the Ink components (watch view,
 * dashboard): each returns plain strings, and the caller adds color and layout. Pure.
 */
import { formatDuration, formatLocalTime } from '../core/index.js'
import type {
  ActivitySnapshot,
  ConnectionSummary,
  CountRow,
  LockNode,
  LockTree,
  PgBouncerPool,
  PoolMetrics,
  Session,
  StatementRow,
} from './model.js'

export const STATE_ORDER = [
  'active',
  'idle in transaction',
  'idle in transaction (aborted)',
  'idle',
  'fastpath function call',
  'disabled',
  'hidden',
]

export function age(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : formatDuration(ms)
}

/** One line of text, cut to `width` characters with an ellipsis. */
export function cut(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - 1))}…`
}

export function headline(snapshot: ActivitySnapshot): string {
  const { database } = snapshot
  const details = [
    database.serverVersion ? `PostgreSQL ${database.serverVersion.split(' ')[0]}` : undefined,
    database.role ? `role ${database.role}` : undefined,
  ]
    .filter(Boolean)
    .join(', ')
  return `${database.description}${details ? ` (${details})` : ''} · ${formatLocalTime(snapshot.takenAt)} · ${formatDuration(snapshot.collectMs)}`
}

export function connectionsLine(connections: ConnectionSummary): string {
  return (
    `${connections.used} of ${connections.usable} usable (${Math.round(connections.usedShare * 100)}%) · ` +
    `max_connections ${connections.maxConnections}, ${connections.reserved} reserved · ${connections.free} free`
  )
}

/** `active 3 · idle in transaction 1 · idle 12`, states in a fixed order. */
export function statesLine(connections: ConnectionSummary): string {
  const rows = [...connections.byState].sort((a, b) => STATE_ORDER.indexOf(a.name) - STATE_ORDER.indexOf(b.name))
  return rows.map((row) => `${row.name} ${row.count}`).join(' · ') || 'no client sessions'
}

export function countsLine(rows: readonly CountRow[], max = 6): string {
  const shown = rows.slice(0, max).map((row) => `${row.name} ${row.count}`)
  const rest = rows.slice(max).reduce((sum, row) => sum + row.count, 0)
  return [...shown, ...(rest > 0 ? [`others ${rest}`] : [])].join(' · ') || '-'
}

export interface TreeLine {
  /** Box-drawing prefix: '', '├─ ', '│  └─ ', ... */
  prefix: string
  /** The prefix of a second line for the same session (its statement), keeping the branches drawn. */
  continuation: string
  node: LockNode
  /** The root line or a waiter's line, without the statement. */
  text: string
}

/** A lock tree as lines, depth first, waiters longest-waiting first. */
export function lockTreeLines(tree: LockTree): TreeLine[] {
  const below = (node: LockNode) => (node.children.length > 0 ? '│  ' : '   ')
  const lines: TreeLine[] = [{ prefix: '', continuation: below(tree.root), node: tree.root, text: rootText(tree) }]
  const walk = (node: LockNode, indent: string) => {
    node.children.forEach((child, index) => {
      const last = index === node.children.length - 1
      const childIndent = `${indent}${last ? '   ' : '│  '}`
      lines.push({
        prefix: `${indent}${last ? '└─ ' : '├─ '}`,
        continuation: `${childIndent}${below(child)}`,
        node: child,
        text: waiterText(child),
      })
      walk(child, childIndent)
    })
  }
  walk(tree.root, '')
  return lines
}

function sessionLabel(node: LockNode): string {
  return [`${node.pid}`, node.user ?? '?', node.application || undefined].filter(Boolean).join(' · ')
}

function rootText(tree: LockTree): string {
  const { root } = tree
  const doing =
    root.state === 'active'
      ? `active ${age(root.queryAgeMs)} (transaction ${age(root.transactionAgeMs)})`
      : root.state === 'hidden'
        ? 'state hidden'
        : `${root.state}, transaction ${age(root.transactionAgeMs)}`
  const blocks = `blocks ${tree.waiters}${tree.longestWaitMs !== null ? `, longest wait ${age(tree.longestWaitMs)}` : ''}`
  return `${sessionLabel(root)} · ${doing} · ${blocks}${tree.deadlock ? ' · DEADLOCK (cycle)' : ''}`
}

function waiterText(node: LockNode): string {
  const wait = node.waiting
  const what = wait ? `waits ${age(wait.waitMs)} for ${wait.mode} on ${wait.target}` : 'waits'
  const also = node.alsoBlockedBy.length > 0 ? ` (also behind ${node.alsoBlockedBy.join(', ')})` : ''
  return `${sessionLabel(node)} · ${what}${also}`
}

export function poolLine(pool: PoolMetrics): string {
  const acquire = pool.acquire
  const times =
    acquire && acquire.count > 0
      ? ` · acquire p50 ${age(acquire.p50Ms)}, p95 ${age(acquire.p95Ms)}, p99 ${age(acquire.p99Ms)} (${acquire.count} since the service started)`
      : ''
  return `${pool.total} open of ${pool.max ?? '?'}, ${pool.idle} idle, ${pool.waiting} waiting${times}`
}

export function pgbouncerLine(pool: PgBouncerPool): string {
  return (
    `${pool.database}/${pool.user}${pool.poolMode ? ` (${pool.poolMode})` : ''}: clients ${pool.clientsActive} active, ` +
    `${pool.clientsWaiting} waiting (max wait ${age(pool.maxWaitMs)}) · servers ${pool.serversActive} active, ${pool.serversIdle} idle, ` +
    `${pool.serversUsed} used`
  )
}

export function sessionLine(session: Session, ageOf: 'transaction' | 'query'): string {
  const ms = ageOf === 'transaction' ? session.transactionAgeMs : session.queryAgeMs
  return [`${session.pid}`, session.user ?? '?', session.application || '(none)', session.state, age(ms)].join(' · ')
}

export function statementLine(row: StatementRow): string {
  return (
    `${age(row.totalMs)} total · ${row.calls} calls · ${age(row.meanMs)} mean · ${Math.round(row.share * 100)}%` +
    `${row.hitRatio === null ? '' : ` · hit ${(row.hitRatio * 100).toFixed(1)}%`}`
  )
}

export function queryText(query: string | null): string {
  return query ?? "(another role's statement: hidden)"
}
