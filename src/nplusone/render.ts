import { escapeMarkdown, formatBytes, formatDuration, formatLocalTime, markdownTable, renderTable, type Palette } from '../core/index.js'
import type { NPlusOneOccurrence, NPlusOnePattern, NPlusOneReport, SourceSummary, TopReport } from './types.js'

const plain: Palette = { bold: String, dim: String, red: String, green: String, yellow: String, cyan: String }

export type ReportFormat = 'table' | 'markdown'

/** Occurrences of a pattern the table output lists; --json and --format markdown list every one kept. */
const TABLE_OCCURRENCES = 10

function ms(value: number | undefined): string {
  return value === undefined ? '–' : formatDuration(value)
}

function count(value: number): string {
  return value.toLocaleString('en-US')
}

function plural(value: number, noun: string): string {
  return `${count(value)} ${noun}${value === 1 ? '' : 's'}`
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** How long the unit's statements took from the first start to the last end, when both are known. */
function spanOf(occurrence: NPlusOneOccurrence): number | undefined {
  if (!occurrence.startedAt || !occurrence.endedAt) return undefined
  return Math.max(0, Date.parse(occurrence.endedAt) - Date.parse(occurrence.startedAt))
}

/** The unit's own identity: request id, trace and span ids, or session and process id. */
function unitIdentity(occurrence: NPlusOneOccurrence): string {
  if (occurrence.kind === 'trace') {
    return `trace ${occurrence.traceId ?? occurrence.id}${occurrence.spanId ? ` span ${occurrence.spanId}` : ''}`
  }
  if (occurrence.kind === 'request') return `request ${occurrence.id}`
  const session = occurrence.session ?? occurrence.id
  const pid = occurrence.pid !== undefined && String(occurrence.pid) !== session ? ` (pid ${occurrence.pid})` : ''
  return `session ${session}${pid}`
}

/** A unit's label without the session it repeats ("app@shop session 4242" names its session again). */
function unitLabel(occurrence: NPlusOneOccurrence): string | undefined {
  const label = occurrence.label
  if (!label || occurrence.kind !== 'session') return label
  const suffix = ` session ${occurrence.session ?? ''}`
  if (label.endsWith(suffix)) return label.slice(0, -suffix.length) || undefined
  return label.startsWith('session ') ? undefined : label
}

/** Which unit, where, when (local time with its zone) and for how long, and where in the code. */
function describeUnit(occurrence: NPlusOneOccurrence): string {
  const span = spanOf(occurrence)
  const when = occurrence.startedAt
    ? `${formatLocalTime(occurrence.startedAt)}${span !== undefined ? ` (unit of ${ms(span)})` : ''}`
    : undefined
  return [unitIdentity(occurrence), unitLabel(occurrence), when, occurrence.callSite].filter(Boolean).join(' · ')
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

/** The human report: a table of patterns, then each pattern with its units, producer, call site and fix. */
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
        { header: 'Statement', value: ({ pattern }) => shorten(oneLine(pattern.sql), 80) },
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
  const lines = [
    `${colors.bold(`${index}.`)} ${colors.cyan(pattern.sql)}${pattern.parsed ? '' : colors.yellow(' (lexical: the PostgreSQL parser rejected it)')}`,
  ]
  lines.push(`   ${label('fingerprint')}${pattern.fingerprint}`)
  lines.push(`   ${label('where')}${pattern.where.map((where) => `${where.label} (${plural(where.units, 'unit')})`).join(', ')}`)
  lines.push(...describeOccurrences(pattern, label, colors))
  if (pattern.producer) lines.push(`   ${label('ids from')}${pattern.producer.sql}`)
  if (pattern.callSite) lines.push(`   ${label('call site')}${pattern.callSite}`)
  lines.push(`   ${label('fix')}${pattern.fix.summary}`)
  if (pattern.fix.batched) lines.push(`   ${label('')}${colors.green(pattern.fix.batched)}`)
  if (pattern.fix.joined) lines.push(`   ${label('or, joined')}${colors.green(pattern.fix.joined)}`)
  for (const sample of pattern.samples ?? []) lines.push(`   ${label('parameters')}${sample.join(', ')}`)
  return lines
}

/**
 * The compact list: one line per unit (count, time, which unit), the first TABLE_OCCURRENCES in
 * time order; beyond those, the worst unit and how many more there are.
 */
function describeOccurrences(pattern: NPlusOnePattern, label: (text: string) => string, colors: Palette): string[] {
  const shown = pattern.occurrences.slice(0, TABLE_OCCURRENCES)
  const counts = shown.map((occurrence) => `×${occurrence.count}`)
  const times = shown.map((occurrence) => (occurrence.totalMs === undefined ? '' : ms(occurrence.totalMs)))
  const countWidth = Math.max(0, ...counts.map((text) => text.length))
  const timeWidth = Math.max(0, ...times.map((text) => text.length))
  const lines = shown.map((occurrence, i) => {
    const figures = `${colors.bold(counts[i]!.padEnd(countWidth))}  ${timeWidth > 0 ? `${times[i]!.padStart(timeWidth)}  ` : ''}`
    return `   ${label(i === 0 ? `${plural(pattern.units, 'unit')}` : '')}${figures}${describeUnit(occurrence)}`
  })
  const more = pattern.units - shown.length
  if (more > 0) {
    const listed = pattern.occurrences.length - shown.length
    const where =
      listed > 0
        ? `${count(listed)} listed by --json and --format markdown${pattern.occurrencesOmitted > 0 ? `, ${count(pattern.occurrencesOmitted)} only counted (raise --max-occurrences)` : ''}`
        : 'only counted (raise --max-occurrences to list them)'
    const rest = shown.length === 0 ? `not listed: ${where}` : `… ${count(more)} more: ${where}`
    lines.push(`   ${label(shown.length === 0 ? plural(pattern.units, 'unit') : '')}${colors.dim(rest)}`)
    const worst = pattern.worstUnit
    lines.push(
      `   ${label('worst unit')}${worst.count} executions${worst.totalMs !== undefined ? `, ${ms(worst.totalMs)}` : ''} · ${describeUnit(worst)}`,
    )
  }
  return lines
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}

/** Inline code that no backtick in the text can close early; `|` escaped for a table cell. */
function codeSpan(text: string, inTable = false): string {
  const line = oneLine(text)
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((run) => run[0].length))
  const fence = '`'.repeat(longest + 1)
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : ''
  const code = `${fence}${pad}${line}${pad}${fence}`
  return inTable ? code.replace(/\|/g, '\\|') : code
}

/** A fenced block that no line of the text can close. */
function codeBlock(text: string, language: string): string[] {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((run) => run[0].length))
  const fence = '`'.repeat(Math.max(3, longest + 1))
  return [`${fence}${language}`, text, fence]
}

/** Markdown for a CI step summary or a pull request: text from logs and traces is escaped, times are ISO 8601 UTC. */
export function renderNPlusOneMarkdown(report: NPlusOneReport): string {
  const lines = [`## N+1 queries: ${plural(report.patterns.length, 'pattern')}`, '']
  lines.push(
    `${count(report.totals.executions)} statements in ${count(report.totals.units)} units of work from ${escapeMarkdown(describeSources(report.sources))}.`,
    '',
  )
  if (report.patterns.length > 0) {
    lines.push(
      '| # | Statement | Executions | Units | Max/unit | Total | Mean | Where |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    )
    report.patterns.forEach((pattern, i) => {
      lines.push(
        `| ${i + 1} | ${codeSpan(shorten(oneLine(pattern.sql), 100), true)} | ${pattern.executions} | ${pattern.units} | ${pattern.maxPerUnit} | ${ms(pattern.totalMs)} | ${ms(pattern.meanMs)} | ${escapeMarkdown(pattern.where.map((where) => where.label).join(', '))} |`,
      )
    })
    report.patterns.forEach((pattern, i) => {
      lines.push(
        '',
        `### ${i + 1}. \`${pattern.fingerprint}\`${pattern.parsed ? '' : ' (lexical)'}`,
        '',
        ...codeBlock(pattern.sql, 'sql'),
        '',
      )
      lines.push(`- **Worst unit:** ${escapeMarkdown(describeUnitPlain(pattern.worstUnit))}`)
      if (pattern.producer) lines.push(`- **Ids from:** ${codeSpan(pattern.producer.sql)}`)
      if (pattern.callSite) lines.push(`- **Call site:** ${codeSpan(pattern.callSite)}`)
      lines.push(`- **Fix:** ${escapeMarkdown(pattern.fix.summary)}`)
      if (pattern.fix.batched) lines.push('', ...codeBlock(pattern.fix.batched, 'sql'))
      if (pattern.fix.joined)
        lines.push('', 'Or, joined with the statement that produced the ids:', '', ...codeBlock(pattern.fix.joined, 'sql'))
      lines.push('', ...occurrencesMarkdown(pattern))
    })
  }
  if (report.warnings.length > 0) lines.push('', ...report.warnings.map((warning) => `> ${escapeMarkdown(warning)}`))
  return lines.join('\n')
}

/** The worst unit in Markdown: ISO 8601 UTC rather than local time (the summary is read elsewhere, later). */
function describeUnitPlain(occurrence: NPlusOneOccurrence): string {
  const parts = [
    unitLabel(occurrence),
    unitIdentity(occurrence),
    occurrence.startedAt,
    `${plural(occurrence.count, 'execution')}${occurrence.totalMs !== undefined ? `, ${ms(occurrence.totalMs)}` : ''}`,
  ]
  return parts.filter(Boolean).join(' · ')
}

/** Every occurrence kept, as a table folded under a summary line (a pattern in hundreds of units stays readable). */
function occurrencesMarkdown(pattern: NPlusOnePattern): string[] {
  const omitted =
    pattern.occurrencesOmitted > 0
      ? `, ${count(pattern.occurrences.length)} with the most executions listed, ${count(pattern.occurrencesOmitted)} more counted only`
      : ''
  const summary = `Occurrences: ${plural(pattern.units, 'unit')} of work${omitted}`
  if (pattern.occurrences.length === 0) return [`- **${summary}** (raise --max-occurrences to list them).`]
  const rows = pattern.occurrences.map((occurrence) => {
    const span = spanOf(occurrence)
    return [
      String(occurrence.count),
      ms(occurrence.totalMs),
      unitLabel(occurrence) ?? '',
      unitIdentity(occurrence),
      occurrence.startedAt ?? '–',
      span === undefined ? '–' : ms(span),
      occurrence.callSite ?? '',
    ]
  })
  return [
    '<details>',
    `<summary>${summary}</summary>`,
    '',
    markdownTable(['Executions', 'Total', 'Where', 'Unit', 'Started (UTC)', 'Lasted', 'Call site'], rows),
    '',
    '</details>',
  ]
}

export function renderTopReport(report: TopReport, colors: Palette = plain, format: ReportFormat = 'table'): string {
  if (format === 'markdown') return renderTopMarkdown(report)
  const { totals } = report
  const range = totals.firstAt ? ` · ${formatLocalTime(totals.firstAt)} to ${totals.lastAt ? formatLocalTime(totals.lastAt) : '–'}` : ''
  const lines = [
    colors.bold(
      `Statements by ${report.sortedBy === 'total' ? 'total time' : report.sortedBy} (${report.statements.length} of ${count(totals.fingerprints)})`,
    ) + colors.dim(` · ${count(totals.calls)} calls${totals.totalMs !== undefined ? ` · ${ms(totals.totalMs)} in total` : ''}${range}`),
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
      `| ${ms(row.totalMs)} | ${row.share === undefined ? '–' : `${(row.share * 100).toFixed(1)}%`} | ${row.calls} | ${ms(row.meanMs)} | ${ms(row.p95Ms)} | ${ms(row.maxMs)} | ${row.errors} | ${codeSpan(shorten(oneLine(row.sql), 120), true)} |`,
    )
  }
  lines.push('', `### Errors (${count(totals.errors)})`, '')
  if (report.errors.length === 0) lines.push('None.')
  else {
    lines.push('| Count | SQLSTATE | Message | Statement |', '| ---: | --- | --- | --- |')
    for (const row of report.errors)
      lines.push(
        `| ${row.count} | ${escapeMarkdown(row.code ?? '–')} | ${escapeMarkdown(row.message)} | ${row.sql ? codeSpan(shorten(oneLine(row.sql), 100), true) : '–'} |`,
      )
  }
  if (report.warnings.length > 0) lines.push('', ...report.warnings.map((warning) => `> ${escapeMarkdown(warning)}`))
  return lines.join('\n')
}
