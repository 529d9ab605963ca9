import type { Palette } from '../core/index.js'
import { renderNPlusOneReport } from '../nplusone/index.js'
import type { DemoSummary, RunningDemo } from './demo.js'

export function renderDemoStarted(demo: RunningDemo, colors: Palette): string {
  const rows = Object.entries(demo.rows)
    .map(([table, count]) => `${count.toLocaleString('en-US')} ${table}`)
    .join(', ')
  return [
    '',
    `${colors.green('●')} ${colors.bold('Reference service')}  ${demo.serviceUrl}`,
    `${colors.green('●')} ${colors.bold('Database')}           ${demo.database.description}`,
    `  ${colors.dim(rows)}`,
    ...(demo.flagsUrl
      ? [`${colors.green('●')} ${colors.bold('Flags')}              ${demo.flagsUrl} ${colors.dim('(flags.yaml over the Unleash API)')}`]
      : []),
    `  ${colors.dim(`DATABASE_URL=${demo.database.url}`)}`,
    '',
    colors.bold('Try next:'),
    ...demo.nextSteps.map((step) => `  ${step}`),
    '',
    colors.dim('Ctrl-C stops everything.'),
  ].join('\n')
}

export function renderDemoStopped(summary: DemoSummary, colors: Palette): string {
  const statuses = Object.entries(summary.traffic.byStatus)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ')
  return [
    `Sent ${summary.traffic.requests} background requests (${statuses || 'none answered'}${summary.traffic.errors ? `, ${summary.traffic.errors} failed` : ''}).`,
    `Reference service exited with code ${summary.serviceExitCode}. ${colors.green('Stopped cleanly.')}`,
    ...(summary.nplusone
      ? ['', colors.bold(`N+1 queries the live query hook saw (${summary.queryLog}):`), renderNPlusOneReport(summary.nplusone, colors)]
      : []),
  ].join('\n')
}
