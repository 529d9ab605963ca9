/**
 * The terminal summary: each check with what it measured, its budget and verdict, and for a
 * check that did not pass its evidence (the N+1 call site, the plan node, the hot function) and
 * files. Pure (colors come in).
 */
import { renderTable, verdictLabel, type Palette, type VerdictStatus } from '../core/index.js'
import type { GateReport } from './model.js'

export function renderGateReport(report: GateReport, colors: Palette): string {
  const paint: Record<VerdictStatus, (text: string) => string> = {
    pass: colors.green,
    fail: colors.red,
    inconclusive: colors.yellow,
    invalid: colors.yellow,
  }
  const lines = [
    colors.bold(`opsctl gate${report.mode === 'update-baseline' ? ' --update-baseline' : ''}`) +
      colors.dim(` · ${report.checks.length} check${report.checks.length === 1 ? '' : 's'} in ${(report.durationMs / 1000).toFixed(1)}s`) +
      (report.service ? colors.dim(` · service ${report.service.url}`) : '') +
      (report.reference ? colors.dim(` · reference build ${report.reference.url}`) : ''),
    '',
    renderTable(report.checks, [
      { header: 'Check', value: (check) => check.name },
      { header: 'Type', value: (check) => check.type },
      { header: 'Measured', value: (check) => check.measured },
      { header: 'Budget', value: (check) => check.budget },
      { header: 'Verdict', value: (check) => paint[check.status](verdictLabel(check.status)) },
    ]),
  ]
  for (const check of report.checks) {
    if (check.status === 'pass') continue
    lines.push('', paint[check.status](`${check.name}: ${verdictLabel(check.status).toLowerCase()}`))
    for (const item of check.evidence.length
      ? check.evidence
      : check.verdict.reasons.map((message) => ({ message, file: undefined, line: undefined })))
      lines.push(`  ${item.file ? colors.cyan(`${item.file}${item.line ? `:${item.line}` : ''}`) + ' ' : ''}${item.message}`)
    for (const file of check.files) lines.push(colors.dim(`  ${file.label}: ${file.path}`))
  }
  if (report.baselines.updated.length) lines.push('', `Baselines written (commit them): ${report.baselines.updated.join(', ')}`)
  const written = [report.files.junit, report.files.markdown, report.files.stepSummary].filter(Boolean)
  if (written.length) lines.push('', colors.dim(`Reports: ${written.join(', ')}`))
  if (report.journal && !report.journal.recorded)
    lines.push(colors.yellow(`The verdict was not recorded in the journal: ${report.journal.error}`))
  lines.push(
    '',
    report.interrupted
      ? colors.yellow('Interrupted: the checks above ran, the rest did not.')
      : paint[report.status](`Gate: ${verdictLabel(report.status)}`),
  )
  return lines.join('\n')
}
