import { formatLocalTime, renderTable, type Palette } from '../core/index.js'
import type { ActivitySnapshot, Finding, Session } from './model.js'
import type { SignalPlan, SignalResult } from './signal.js'
import { age, connectionsLine, countsLine, cut, headline, lockTreeLines, pgbouncerLine, poolLine, queryText, statesLine } from './view.js'

const QUERY_WIDTH = 100

/** One snapshot as text: connections, lock chains, oldest work, pool, PgBouncer, top statements, findings, what was not shown. */
export function renderActivity(snapshot: ActivitySnapshot, colors: Palette): string {
  const out: string[] = [colors.bold(`Database activity · ${headline(snapshot)}`), '']
  const { connections } = snapshot
  if (connections) {
    out.push(`${colors.bold('Connections')}  ${connectionsLine(connections)}`)
    out.push(`  ${statesLine(connections)}`)
    out.push(`  by application  ${countsLine(connections.byApplication)}`)
    out.push(`  by role         ${countsLine(connections.byUser)}`)
    out.push(`  by client       ${countsLine(connections.byClient)}`)
    if (connections.byDatabase.length > 1) out.push(`  by database     ${countsLine(connections.byDatabase)}`)
    out.push('')
  }

  if (connections) {
    out.push(colors.bold('Lock chains'))
    if (snapshot.lockTrees.length === 0) out.push('  none: no session waits for a lock held by another')
    for (const tree of snapshot.lockTrees) {
      for (const line of lockTreeLines(tree)) {
        const text = line.prefix === '' ? colors.red(line.text) : `${colors.dim(line.prefix)}${line.text}`
        out.push(`  ${text}`, `  ${colors.dim(`${line.continuation}${cut(queryText(line.node.query), QUERY_WIDTH)}`)}`)
      }
    }
    out.push('')
    out.push(...sessionTable('Oldest transactions', snapshot.oldestTransactions, 'transaction', colors))
    if (snapshot.longestQueries.length > 0)
      out.push(...sessionTable('Longest running statements', snapshot.longestQueries, 'query', colors))
  }

  if (snapshot.pool)
    out.push(`${colors.bold('Service pool')}  ${poolLine(snapshot.pool)}`, colors.dim(`  from ${snapshot.pool.source}`), '')
  if (snapshot.pgbouncer) {
    out.push(colors.bold('PgBouncer (SHOW POOLS)'))
    if (snapshot.pgbouncer.length === 0) out.push('  no pools yet')
    for (const pool of snapshot.pgbouncer) out.push(`  ${pgbouncerLine(pool)}`)
    out.push('')
  }

  const { statements } = snapshot
  if (statements.available) {
    const since = statements.since ? ` since ${formatLocalTime(statements.since)}` : ' since the last reset'
    out.push(colors.bold(`Top statements by total time (pg_stat_statements${since})`))
    out.push(
      indent(
        renderTable(statements.rows, [
          { header: 'total', value: (row) => age(row.totalMs), align: 'right' },
          { header: 'calls', value: (row) => row.calls },
          { header: 'mean', value: (row) => age(row.meanMs), align: 'right' },
          { header: 'share', value: (row) => `${Math.round(row.share * 100)}%`, align: 'right' },
          { header: 'hit', value: (row) => (row.hitRatio === null ? '-' : `${(row.hitRatio * 100).toFixed(1)}%`), align: 'right' },
          { header: 'statement', value: (row) => cut(queryText(row.query), QUERY_WIDTH) },
        ]),
      ),
      '',
    )
  } else {
    out.push(`${colors.bold('Top statements')}  ${statements.reason ?? 'not available'}`)
    if (statements.hint) out.push(`  ${colors.dim('Try:')} ${statements.hint}`)
    out.push('')
  }

  out.push(colors.bold(`Findings (${snapshot.findings.length})`))
  if (snapshot.findings.length === 0) out.push(`  ${colors.green('none')}`)
  for (const finding of snapshot.findings) out.push(...renderFinding(finding, colors))

  if (snapshot.unavailable.length > 0) {
    out.push('', colors.bold('Not shown'))
    for (const item of snapshot.unavailable) {
      out.push(`  - ${item.what}: ${item.why}`)
      if (item.hint) out.push(`    ${colors.dim('Try:')} ${item.hint}`)
    }
  }
  return out.join('\n')
}

function sessionTable(title: string, sessions: readonly Session[], ageOf: 'transaction' | 'query', colors: Palette): string[] {
  if (sessions.length === 0) return [colors.bold(title), '  none', '']
  return [
    colors.bold(title),
    indent(
      renderTable(
        [...sessions],
        [
          { header: 'pid', value: (session) => session.pid },
          { header: 'role', value: (session) => session.user ?? '?' },
          { header: 'application', value: (session) => session.application || '(none)' },
          { header: 'state', value: (session) => session.state },
          {
            header: ageOf,
            value: (session) => age(ageOf === 'transaction' ? session.transactionAgeMs : session.queryAgeMs),
            align: 'right',
          },
          { header: 'statement', value: (session) => cut(queryText(session.query), 80) },
        ],
      ),
    ),
    '',
  ]
}

function renderFinding(finding: Finding, colors: Palette): string[] {
  const mark = finding.severity === 'critical' ? colors.red('● critical') : colors.yellow('● warning ')
  const lines = [`  ${mark}  ${colors.bold(finding.kind)}  ${finding.message}`, `      ${colors.dim('Try:')} ${finding.advice}`]
  if (finding.settings) {
    lines.push(`      ${colors.dim('pgbouncer.ini to start from:')}`)
    for (const [name, value] of Object.entries(finding.settings)) lines.push(`        ${name} = ${value}`)
  }
  return lines
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}

/** What cancel/terminate is about to do, before the confirmation. */
export function renderSignalPlan(plan: SignalPlan, colors: Palette): string {
  const { target } = plan
  const verb = plan.action === 'cancel' ? 'Cancel the running statement of' : 'Terminate'
  return [
    `${colors.bold(verb)} session ${target.pid} on ${plan.database}`,
    `  role ${target.role ?? '?'} · application ${target.application || '(none)'} · database ${target.database ?? '?'} · ${target.state ?? 'state hidden'}`,
    `  ${colors.dim(cut(queryText(target.query), QUERY_WIDTH))}`,
    plan.action === 'terminate' ? '  Its open transaction, if any, is rolled back and the client is disconnected.' : '',
  ]
    .filter(Boolean)
    .join('\n')
}

export function renderSignalResult(result: SignalResult, colors: Palette): string {
  const who = `session ${result.target.pid} (role ${result.target.role ?? '?'}${result.target.application ? `, ${result.target.application}` : ''})`
  const done = !result.signalled
    ? `Session ${result.target.pid} had already ended: nothing was sent.`
    : result.action === 'cancel'
      ? `Cancelled the running statement of ${who}.`
      : result.ended
        ? `Terminated ${who}: it has ended.`
        : `Sent terminate to ${who}; it was still there after ${age(result.waitedMs)}.`
  const journal = result.eventId
    ? colors.dim(`Recorded in the journal as ${result.action === 'cancel' ? 'db.cancel' : 'db.terminate'} (${result.eventId}).`)
    : colors.yellow(`Not recorded in the journal: ${result.journalError ?? 'unknown error'}`)
  return `${colors.green(done)}\n${journal}`
}
