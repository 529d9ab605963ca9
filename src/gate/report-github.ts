/**
 * GitHub Actions workflow commands: `::error file=F,line=L,title=T::message` for every piece of
 * evidence that knows its source line (an N+1 call site, a hot function), and one annotation
 * without a file for a check that failed without one. Escaped as GitHub's runner expects: data
 * escapes `%`, CR and LF; properties also `:` and `,`. Pure.
 */
import type { GateReport } from './model.js'

export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

export function isGitHubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true'
}

export function githubAnnotations(report: GateReport): string[] {
  const lines: string[] = []
  for (const check of report.checks) {
    if (check.status === 'pass') continue
    const level = check.status === 'fail' ? 'error' : 'warning'
    const title = `opsctl gate: ${check.name} (${check.status === 'invalid' ? 'invalid measurement' : check.status})`
    const located = check.evidence.filter((item) => item.file)
    for (const item of located) {
      const properties = [
        `file=${escapeProperty(item.file!)}`,
        ...(item.line ? [`line=${item.line}`] : []),
        `title=${escapeProperty(title)}`,
      ]
      lines.push(`::${level} ${properties.join(',')}::${escapeData(item.message)}`)
    }
    if (located.length === 0) {
      const message = [...check.verdict.reasons, ...(check.verdict.hint ? [`Try: ${check.verdict.hint}`] : [])].join('\n')
      lines.push(`::${level} title=${escapeProperty(title)}::${escapeData(message)}`)
    }
  }
  return lines
}
