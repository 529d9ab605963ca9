/**
 * The pull-request comment (and GitHub's step summary): a table of the checks, then for each one
 * that did not pass its reasons, evidence and files (the flame-graph diff and plan diffs), linked
 * relative to where the Markdown is written. Every cell and line is escaped. Pure.
 */
import { relative, resolve } from 'node:path'
import { escapeMarkdown, markdownTable, verdictLabel, type VerdictStatus } from '../core/index.js'
import type { GateReport } from './model.js'

const ICON: Record<VerdictStatus, string> = { pass: '✅', fail: '❌', inconclusive: '⚠️', invalid: '⚠️' }

export function renderMarkdown(report: GateReport, options: { linkFrom?: string } = {}): string {
  const heading = `## ${ICON[report.status]} opsctl gate: ${verdictLabel(report.status).toLowerCase()}${report.mode === 'update-baseline' ? ' (baselines updated)' : ''}`
  const table = markdownTable(
    ['Check', 'Type', 'Measured', 'Budget', 'Verdict'],
    report.checks.map((check) => [
      check.name,
      check.type,
      check.measured,
      check.budget,
      `${ICON[check.status]} ${verdictLabel(check.status)}`,
    ]),
  )
  const sections: string[] = [heading, '', table]
  for (const check of report.checks) {
    const files = check.files.filter((file) => check.status !== 'pass' || /diff/.test(file.label))
    if (check.status === 'pass' && files.length === 0) continue
    sections.push('', `### ${escapeMarkdown(check.name)}: ${verdictLabel(check.status).toLowerCase()}`, '')
    for (const reason of check.verdict.reasons) sections.push(`- ${escapeMarkdown(reason)}`)
    for (const item of check.evidence) {
      const where = item.file ? `\`${item.file.replace(/`/g, "'")}${item.line ? `:${item.line}` : ''}\` ` : ''
      sections.push(`- ${where}${escapeMarkdown(item.message)}`)
    }
    if (check.verdict.hint) sections.push(`- Try: ${escapeMarkdown(check.verdict.hint)}`)
    if (files.length)
      sections.push(`- Files: ${files.map((file) => `[${escapeMarkdown(file.label)}](${linkTo(file.path, options.linkFrom)})`).join(', ')}`)
  }
  sections.push(
    '',
    `<sub>${escapeMarkdown(`${report.checks.length} checks in ${(report.durationMs / 1000).toFixed(1)}s · baselines in ${report.baselines.dir} · ${report.startedAt}`)}</sub>`,
  )
  return `${sections.join('\n')}\n`
}

/** A relative link (each segment URL-encoded), in angle brackets so that spaces and parentheses stay in it. */
function linkTo(path: string, from: string | undefined): string {
  const target = from ? relative(from, resolve(path)) : path
  return `<${target.split(/[\\/]/).map(encodeURIComponent).join('/')}>`
}
