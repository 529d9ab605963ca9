import { ExitCode, OpsError, formatBytes, formatDuration, renderTable, type Palette } from '../core/index.js'
import type { NPlusOnePattern, NPlusOneReport, SourceSummary, TopReport, UnitSummary } from './types.js'

const plain: Palette = { bold: String, dim: String, red: String, green: String, yellow: String, cyan: String }

export type ReportFormat = 'table' | 'markdown'

function ms(value: number | undefined): string {
  return value === undefined ? '–' : formatDuration(value)
}

function count(value: number): string {
  return value.toLocaleString('en-US')
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** Local time for people (files and JSON keep ISO 8601 UTC). */
function localTime(iso: string | undefined): string | undefined {
  if (!iso) return undefined
  const date = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

function describeUnit(unit: UnitSummary): string {
  const kind = unit.kind === 'trace' ? `trace ${unit.traceId ?? unit.id}` : unit.kind === 'request' ? `request ${unit.id}` : undefined
  const parts = [unit.label, kind, localTime(unit.startedAt), `${unit.count} executions${unit.totalMs !== undefined ? `, ${ms(unit.totalMs)}` : ''}`]
  return parts.filter(Boolean).join(' · ')
}

function describeSources(sources: SourceSummary[]): string {
  return sources
    .map((source) => {
      const skipped = source.skipped.lines > 0 ? `, ${count(source.skipped.lines)} skipped` : ''
      const lines = source.kind === 'otlp' ? `${count(source.records)} spans` : `${count(source.lines)} lines`
      return `${source.name} (${source.format}, ${formatBytes(source.bytes)}, ${lines}, ${count(source.statements)} statements${skipped})`
    })
    .join('; ')
}

/** The human report: a table of patterns, then each pattern with its unit, producer, call site and fix. */
export function renderNPlusOneReport(report: NPlusOneReport, colors: Palette = plain, format: ReportFormat = 'table'): string {
  if (format === 'markdown') return renderNPlusOneMarkdown(report)
  const { totals, options } = report
  const settings = `min repeats ${options.minRepeats}${options.minTotalMs > 0 ? `, min total ${ms(options.minTotalMs)}` : ''}, idle gap ${ms(options.idleGapMs)}`
  const read = `Read ${describeSources(report.sources)}: ${count(totals.executions)} statements in ${count(totals.units)} units of work (${settings}).`
  if (report.patterns.length === 0) return `${colors.green('No N+1 patterns.')}\n${colors.dim(read)}`

  const lines = [colors.bold(`${report.patterns.length} N+1 pattern${report.patterns.length === 1 ? '' : 's'}`), '']
  lines.push(
    renderTable(
      report.patterns.map((pattern, i) => ({ pattern, i })),
      [
        { header: '#', value: ({ i }) => i + 1 },
        { header: 'Executions', value: ({ pattern }) => pattern.executions },
        { header: 'Units', value: ({ pattern }) => pattern.units },
        { header: 'Max/unit', value: ({ pattern }) => pattern.maxPerUnit },
        { header: 'Total', value: ({ pattern }) => ms(pattern.totalMs), align: 'right' },
        { header: 'Mean', value: ({ pattern }) => ms(pattern.meanMs), align: 'right' },
        { header: 'Statement', value: ({ pattern }) => shorten(pattern.sql, 80) },
      ],
    ),
  )
  report.patterns.forEach((pattern, i) => {
    lines.push('', ...describePattern(pattern, i + 1, colors))
  })
  lines.push('', colors.dim(read))
  return lines.join('\n')
}

function describePattern(pattern: NPlusOnePattern, index: number, colors: Palette): string[] {
  const label = (text: string) => colors.dim(text.padEnd(13))
  const lines = [`${colors.bold(`${index}.`)} ${colors.cyan(pattern.sql)}${pattern.parsed ? '' : colors.yellow(' (lexical: the PostgreSQL parser rejected it)')}`]
  lines.push(`   ${label('fingerprint')}${pattern.fingerprint}`)
  lines.push(`   ${label('where')}${pattern.where.map((where) => `${where.label} (${where.units} unit${where.units === 1 ? '' : 's'})`).join(', ')}`)
  lines.push(`   ${label('worst unit')}${describeUnit(pattern.worstUnit)}`)
  if (pattern.producer) lines.push(`   ${label('ids from')}${pattern.producer.sql}`)
  if (pattern.callSite) lines.push(`   ${label('call site')}${pattern.callSite}`)
  lines.push(`   ${label('fix')}${pattern.fix.summary}`)
  if (pattern.fix.batched) lines.push(`   ${label('')}${colors.green(pattern.fix.batched)}`)
  if (pattern.fix.joined) lines.push(`   ${label('or, joined')}${colors.green(pattern.fix.joined)}`)
  for (const sample of pattern.samples ?? []) lines.push(`   ${label('parameters')}${sample.join(', ')}`)
  return lines
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function renderNPlusOneMarkdown(report: NPlusOneReport): string {
  const lines = [`## N+1 queries: ${report.patterns.length} pattern${report.patterns.length === 1 ? '' : 's'}`, '']
  lines.push(`${count(report.totals.executions)} statements in ${count(report.totals.units)} units of work from ${describeSources(report.sources)}.`, '')
  if (report.patterns.length > 0) {
    lines.push('| # | Statement | Executions | Units | Max/unit | Total | Mean | Where |', '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |')
    report.patterns.forEach((pattern, i) => {
      lines.push(
        `| ${i + 1} | \`${cell(shorten(pattern.sql, 100))}\` | ${pattern.executions} | ${pattern.units} | ${pattern.maxPerUnit} | ${ms(pattern.totalMs)} | ${ms(pattern.meanMs)} | ${cell(pattern.where.map((where) => where.label).join(', '))} |`,
      )
    })
    report.patterns.forEach((pattern, i) => {
      lines.push('', `### ${i + 1}. \`${pattern.fingerprint}\`${pattern.parsed ? '' : ' (lexical)'}`, '', '```sql', pattern.sql, '```', '')
      lines.push(`- **Worst unit:** ${cell(describeUnit(pattern.worstUnit))}`)
      if (pattern.producer) lines.push(`- **Ids from:** \`${cell(pattern.producer.sql)}\``)
      if (pattern.callSite) lines.push(`- **Call site:** \`${pattern.callSite}\``)
      lines.push(`- **Fix:** ${pattern.fix.summary}`)
      if (pattern.fix.batched) lines.push('', '```sql', pattern.fix.batched, '```')
      if (pattern.fix.joined) lines.push('', 'Or, joined with the statement that produced the ids:', '', '```sql', pattern.fix.joined, '```')
    })
  }
  if (report.warnings.length > 0) lines.push('', ...report.warnings.map((warning) => `> ${warning}`))
  return lines.join('\n')
}

/** `--max N`: more than N distinct patterns fails the check (exit 1), naming them. */
export function checkNPlusOneBudget(report: NPlusOneReport, max: number): void {
  if (report.patterns.length <= max) return
  const list = report.patterns.map((pattern) => `  ${pattern.fingerprint}  ${shorten(pattern.sql, 200)} (${pattern.executions} executions in ${pattern.units} units)`)
  throw new OpsError(`Found ${report.patterns.length} N+1 patterns, more than the budget of ${max}:\n${list.join('\n')}`, {
    exit: ExitCode.CheckFailed,
    hint: 'Batch the repeated statements (see the fix of each pattern), or ignore accepted ones with --ignore FINGERPRINT.',
  })
}

export function renderTopReport(report: TopReport, colors: Palette = plain, format: ReportFormat = 'table'): string {
  if (format === 'markdown') return renderTopMarkdown(report)
  const { totals } = report
  const range = totals.firstAt ? ` · ${localTime(totals.firstAt)} to ${localTime(totals.lastAt)}` : ''
  const lines = [
    colors.bold(`Statements by ${report.sortedBy === 'total' ? 'total time' : report.sortedBy} (${report.statements.length} of ${count(totals.fingerprints)})`) +
      colors.dim(` · ${count(totals.calls)} calls${totals.totalMs !== undefined ? ` · ${ms(totals.totalMs)} in total` : ''}${range}`),
    '',
  ]
  lines.push(
    renderTable(report.statements, [
      { header: 'Total', value: (row) => ms(row.totalMs), align: 'right' },
      { header: 'Share', value: (row) => (row.share === undefined ? '–' : `${(row.share * 100).toFixed(1)}%`), align: 'right' },
      { header: 'Calls', value: (row) => row.calls },
      { header: 'Mean', value: (row) => ms(row.meanMs), align: 'right' },
      { header: 'p95', value: (row) => ms(row.p95Ms), align: 'right' },
      { header: 'Max', value: (row) => ms(row.maxMs), align: 'right' },
      { header: 'Errors', value: (row) => row.errors },
      { header: 'Statement', value: (row) => `${shorten(row.sql, 90)}${row.parsed ? '' : ' (lexical)'}` },
    ]),
  )
  if (report.errors.length > 0) {
    lines.push('', colors.bold(`Errors (${count(totals.errors)})`), '')
    lines.push(
      renderTable(report.errors, [
        { header: 'Count', value: (row) => row.count },
        { header: 'SQLSTATE', value: (row) => row.code ?? '–' },
        { header: 'Message', value: (row) => shorten(row.message, 70) },
        { header: 'Statement', value: (row) => shorten(row.sql ?? '–', 60) },
      ]),
    )
  } else {
    lines.push('', colors.dim('No errors.'))
  }
  lines.push('', colors.dim(`Read ${describeSources(report.sources)}.`))
  return lines.join('\n')
}

function renderTopMarkdown(report: TopReport): string {
  const { totals } = report
  const lines = [
    `## Top statements by ${report.sortedBy === 'total' ? 'total time' : report.sortedBy}`,
    '',
    `${count(totals.calls)} calls of ${count(totals.fingerprints)} distinct statements${totals.totalMs !== undefined ? `, ${ms(totals.totalMs)} in total` : ''}${totals.firstAt ? `, ${totals.firstAt} to ${totals.lastAt}` : ''}.`,
    '',
    '| Total | Share | Calls | Mean | p95 | Max | Errors | Statement |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ]
  for (const row of report.statements) {
    lines.push(
      `| ${ms(row.totalMs)} | ${row.share === undefined ? '–' : `${(row.share * 100).toFixed(1)}%`} | ${row.calls} | ${ms(row.meanMs)} | ${ms(row.p95Ms)} | ${ms(row.maxMs)} | ${row.errors} | \`${cell(shorten(row.sql, 120))}\` |`,
    )
  }
  lines.push('', `### Errors (${count(totals.errors)})`, '')
  if (report.errors.length === 0) lines.push('None.')
  else {
    lines.push('| Count | SQLSTATE | Message | Statement |', '| ---: | --- | --- | --- |')
    for (const row of report.errors) lines.push(`| ${row.count} | ${row.code ?? '–'} | ${cell(row.message)} | ${row.sql ? `\`${cell(shorten(row.sql, 100))}\`` : '–'} |`)
  }
  if (report.warnings.length > 0) lines.push('', ...report.warnings.map((warning) => `> ${warning}`))
  return lines.join('\n')
}
