/**
 * Presentation of reports: an indented plan tree with a self-time bar per node (hot nodes
 * coloured through the palette, so colour is off without a TTY, with CI or NO_COLOR), findings,
 * index advice; Markdown for pull-request comments; the --apply DDL. Pure: strings out.
 */
import { formatBytes, formatDuration, type Palette } from '../core/index.js'
import type { IndexAdvice } from './advisor.js'
import type { PlanDiff } from './diff.js'
import type { ExplainReport } from './explain.js'
import type { Finding, Severity } from './findings.js'
import type { PlanModel, PlanNode } from './model.js'

const BAR_WIDTH = 16
const HOT_SHARE = 0.3
const WARM_SHARE = 0.1
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉']

export function renderExplainReport(report: ExplainReport, colors: Palette): string {
  const lines: string[] = []
  lines.push(colors.bold(headline(report)))
  lines.push(colors.dim(sourceLine(report)))
  lines.push('')
  lines.push(...renderPlanTree(report.plan, colors))
  lines.push('')
  lines.push(...renderFindings(report.findings, colors))
  if (report.advice) {
    lines.push('')
    lines.push(...renderAdvice(report.advice, colors))
  }
  if (report.notes.length > 0) {
    lines.push('')
    for (const note of report.notes) lines.push(colors.dim(`Note: ${note}`))
  }
  return lines.join('\n')
}

function headline(report: ExplainReport): string {
  if (report.source.statement) return `Plan of ${oneLine(report.source.statement, 100)}`
  return `Plan from ${report.source.file ?? 'input'}`
}

function sourceLine(report: ExplainReport): string {
  const { plan, source } = report
  const parts: string[] = []
  if (source.database) parts.push(source.database)
  if (source.serverVersion) parts.push(`PostgreSQL ${Math.floor(source.serverVersion / 10000)}`)
  if (source.kind === 'plan-file') parts.push(`${plan.format} format`)
  parts.push(plan.analyzed ? 'analyzed' : 'estimated (not run)')
  if (plan.executionTime !== null) parts.push(`execution ${formatDuration(plan.executionTime)}`)
  if (plan.planningTime !== null) parts.push(`planning ${formatDuration(plan.planningTime)}`)
  parts.push(`cost ${plan.totalCost.toFixed(2)}`)
  const settings = Object.entries(source.settings)
  if (settings.length > 0) parts.push(`with ${settings.map(([name, value]) => `${name}=${value}`).join(', ')}`)
  return parts.join(' · ')
}

export function renderPlanTree(plan: PlanModel, colors: Palette): string[] {
  const prefixes = treePrefixes(plan)
  const selfCosts = selfCostShares(plan)
  return plan.nodes.map((node) => {
    const share = plan.analyzed ? (node.selfShare ?? 0) : (selfCosts[node.id] ?? 0)
    const amount = plan.analyzed
      ? node.executed
        ? formatDuration(node.selfTime ?? 0)
        : 'never'
      : `c ${Math.round(selfCosts[node.id]! * plan.totalCost)}`
    const paint = share >= HOT_SHARE ? colors.red : share >= WARM_SHARE ? colors.yellow : (text: string) => text
    const gauge = `${paint(amount.padStart(8))} ${paint(`${Math.round(share * 100)}%`.padStart(4))} ${paint(bar(share).padEnd(BAR_WIDTH))}`
    const label = share >= HOT_SHARE ? colors.bold(node.label) : node.label
    return `${gauge} ${colors.dim(prefixes[node.id]!)}${label}${colors.dim(nodeDetails(node, plan.analyzed))}`
  })
}

function bar(share: number): string {
  const eighths = Math.round(Math.max(0, Math.min(1, share)) * BAR_WIDTH * 8)
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]!
}

function treePrefixes(plan: PlanModel): string[] {
  const prefixes: string[] = []
  const visit = (id: number, lead: string, last: boolean, root: boolean) => {
    const node = plan.nodes[id]!
    prefixes[id] = root ? '' : `${lead}${last ? '└─ ' : '├─ '}`
    const childLead = root ? '' : `${lead}${last ? '   ' : '│  '}`
    node.children.forEach((child, index) => visit(child, childLead, index === node.children.length - 1, false))
  }
  if (plan.nodes[0]) visit(0, '', true, true)
  return prefixes
}

/** Without ANALYZE: each node's own share of the total cost, for the bar. */
function selfCostShares(plan: PlanModel): number[] {
  return plan.nodes.map((node) => {
    const children = node.children.reduce((sum, id) => sum + plan.nodes[id]!.totalCost, 0)
    return plan.totalCost > 0 ? Math.max(0, node.totalCost - children) / plan.totalCost : 0
  })
}

function nodeDetails(node: PlanNode, analyzed: boolean, withRows = true): string {
  const parts: string[] = []
  if (node.subplanName) parts.push(node.subplanName)
  if (!withRows) {
    if ((node.loops ?? 1) > 1) parts.push(`loops ${count(node.loops!)}`)
  } else if (analyzed && node.executed && node.actualRows !== null) {
    const estimate =
      node.estimate && node.estimate.factor >= 2
        ? ` (est ${count(node.planRows)}, ${node.estimate.factor.toFixed(node.estimate.factor >= 100 ? 0 : 1)}x ${node.estimate.direction})`
        : ''
    parts.push(`rows ${count(node.actualRows)}${estimate}`)
    if ((node.loops ?? 1) > 1) parts.push(`loops ${count(node.loops!)}`)
  } else {
    parts.push(`est rows ${count(node.planRows)}`)
  }
  if (node.removed.filter > 0) parts.push(`filter removed ${count(node.removed.filter)}`)
  if (node.removed.indexRecheck > 0) parts.push(`recheck removed ${count(node.removed.indexRecheck)}`)
  if (node.removed.joinFilter > 0) parts.push(`join filter removed ${count(node.removed.joinFilter)}`)
  if (node.sort?.spaceType === 'Disk') parts.push(`sort on disk ${formatBytes(node.sort.spaceUsedKb * 1024)}`)
  if (node.hash && node.hash.batches > 1) parts.push(`${node.hash.batches} hash batches`)
  if (node.bitmap && node.bitmap.lossyBlocks > 0) parts.push(`${count(node.bitmap.lossyBlocks)} lossy blocks`)
  if (node.heapFetches) parts.push(`heap fetches ${count(node.heapFetches)}`)
  const own = node.selfBuffers
  if (own && (own.sharedRead > 0 || own.tempWritten > 0)) {
    parts.push(
      [own.sharedRead > 0 ? `read ${count(own.sharedRead)} blk` : '', own.tempWritten > 0 ? `temp ${count(own.tempWritten)} blk` : '']
        .filter(Boolean)
        .join(', '),
    )
  }
  return parts.length > 0 ? `  ${parts.join(' · ')}` : ''
}

function severityMark(severity: Severity, colors: Palette): string {
  if (severity === 'critical') return colors.red('● critical')
  if (severity === 'warning') return colors.yellow('● warning ')
  return colors.cyan('● info    ')
}

export function renderFindings(findings: Finding[], colors: Palette): string[] {
  if (findings.length === 0) return [colors.green('No findings: nothing in this plan needs attention.')]
  const lines = [colors.bold(`Findings (${findings.length})`)]
  for (const finding of findings) {
    lines.push(`  ${severityMark(finding.severity, colors)} ${colors.bold(finding.node)}: ${finding.title}`)
    lines.push(colors.dim(`      evidence: ${formatEvidence(finding.evidence)}`))
    lines.push(`      ${colors.cyan('→')} ${finding.action}`)
  }
  return lines
}

function formatEvidence(evidence: Finding['evidence']): string {
  return Object.entries(evidence)
    .map(([key, value]) => `${key} ${typeof value === 'number' ? (Number.isInteger(value) ? count(value) : String(value)) : value}`)
    .join(' · ')
}

export function renderAdvice(advice: IndexAdvice, colors: Palette): string[] {
  const lines = [colors.bold(`Index advice (${advice.status === 'verified' ? 'verified with HypoPG' : 'unverified: no HypoPG'})`)]
  lines.push(`  ${advice.message}`)
  for (const suggestion of advice.suggestions) {
    const size = suggestion.estimatedSizeBytes !== null ? ` · ~${formatBytes(suggestion.estimatedSizeBytes)}` : ''
    lines.push(
      `  ${colors.green('+')} ${colors.bold(`${suggestion.table} (${suggestion.columns.join(', ')})`)}  cost ${suggestion.costBefore.toFixed(2)} → ${suggestion.costAfter.toFixed(2)} ${colors.green(`(-${(suggestion.saving * 100).toFixed(1)}%)`)}${size} · ${suggestion.reason}`,
    )
    lines.push(colors.dim(`      ${suggestion.createStatement}`))
  }
  for (const candidate of advice.unverified) lines.push(`  ? ${candidate.table} (${candidate.columns.join(', ')}) · ${candidate.reason}`)
  if (advice.rejected.length > 0) {
    lines.push(
      colors.dim(
        `  Not suggested: ${advice.rejected.map((rejected) => `${rejected.table} (${rejected.columns.join(', ')}): ${rejected.reason}`).join('; ')}`,
      ),
    )
  }
  if (advice.suggestions.length > 0)
    lines.push(colors.dim('  --apply prints the CREATE INDEX CONCURRENTLY statements; opsctl never runs them.'))
  return lines
}

/** What --apply prints: the DDL to run yourself, never run by opsctl. */
export function renderApplyStatements(report: ExplainReport): string {
  const advice = report.advice
  if (!advice) return '-- No index advice: the advisor runs on a live statement (not on --plan files, not with --no-advise).'
  const lines = ['-- opsctl never runs these; review and run them yourself (CONCURRENTLY: no write lock, but not inside a transaction).']
  for (const suggestion of advice.suggestions) {
    lines.push(
      `-- ${suggestion.reason}: planner cost ${suggestion.costBefore.toFixed(2)} -> ${suggestion.costAfter.toFixed(2)} (-${(suggestion.saving * 100).toFixed(1)}%)`,
    )
    lines.push(suggestion.createStatement)
  }
  if (advice.status === 'unverified') {
    lines.push(`-- ${advice.message}`)
    for (const candidate of advice.unverified)
      lines.push(
        `-- ${candidate.definition.replace('CREATE INDEX ON', 'CREATE INDEX CONCURRENTLY ON')};  (unverified: ${candidate.reason})`,
      )
  } else if (advice.suggestions.length === 0) {
    lines.push("-- No index cuts the planner's cost clearly; nothing to apply.")
  }
  return lines.join('\n')
}

export function renderExplainMarkdown(report: ExplainReport): string {
  const { plan } = report
  const lines: string[] = []
  lines.push(
    `### ${report.source.statement ? `EXPLAIN \`${oneLine(report.source.statement, 120).replace(/`/g, "'")}\`` : `Plan ${report.source.file ?? ''}`}`,
  )
  lines.push('')
  lines.push(sourceLine(report))
  lines.push('')
  const selfCosts = selfCostShares(plan)
  lines.push(`| # | Node | ${plan.analyzed ? 'Self time | Share' : 'Self cost share'} | Rows | Details |`)
  lines.push(`|---|------|${plan.analyzed ? '---:|---:' : '---:'}|---:|---|`)
  for (const node of plan.nodes) {
    const name = `${'&nbsp;&nbsp;'.repeat(node.depth)}${node.depth > 0 ? '↳ ' : ''}${escapeCell(node.label)}`
    const share = plan.analyzed ? (node.selfShare ?? 0) : (selfCosts[node.id] ?? 0)
    const hot = share >= HOT_SHARE
    const timing = plan.analyzed
      ? `${node.executed ? formatDuration(node.selfTime ?? 0) : 'never'} | ${Math.round(share * 100)}%`
      : `${Math.round(share * 100)}%`
    const rows =
      plan.analyzed && node.actualRows !== null ? `${count(node.actualRows)} / est ${count(node.planRows)}` : `est ${count(node.planRows)}`
    lines.push(
      `| ${node.id} | ${hot ? `**${name}**` : name} | ${timing} | ${rows} | ${escapeCell(nodeDetails(node, plan.analyzed, false).trim())} |`,
    )
  }
  lines.push('')
  lines.push(`#### Findings (${report.findings.length})`)
  lines.push('')
  if (report.findings.length === 0) lines.push('No findings: nothing in this plan needs attention.')
  for (const finding of report.findings) {
    lines.push(`- **${finding.severity}** · \`${finding.node}\` — ${finding.title}`)
    lines.push(`  - Evidence: ${formatEvidence(finding.evidence)}`)
    lines.push(`  - Action: ${finding.action}`)
  }
  const advice = report.advice
  if (advice) {
    lines.push('')
    lines.push(`#### Index advice (${advice.status === 'verified' ? 'verified with HypoPG' : 'unverified'})`)
    lines.push('')
    lines.push(advice.message)
    if (advice.suggestions.length > 0) {
      lines.push('')
      lines.push('| Index | Cost before | Cost after | Saving | Size |')
      lines.push('|---|---:|---:|---:|---:|')
      for (const suggestion of advice.suggestions) {
        lines.push(
          `| \`${suggestion.createStatement}\` | ${suggestion.costBefore.toFixed(2)} | ${suggestion.costAfter.toFixed(2)} | ${(suggestion.saving * 100).toFixed(1)}% | ${suggestion.estimatedSizeBytes !== null ? formatBytes(suggestion.estimatedSizeBytes) : '?'} |`,
        )
      }
    }
    for (const candidate of advice.unverified) lines.push(`- unverified: \`${candidate.definition}\` (${candidate.reason})`)
  }
  for (const note of report.notes) lines.push('', `> ${note}`)
  return lines.join('\n')
}

export function renderPlanDiff(diff: PlanDiff, colors: Palette): string {
  const lines: string[] = [colors.bold(`Plan diff: ${diff.before.label} → ${diff.after.label}`)]
  lines.push(
    `  cost  ${diff.before.totalCost.toFixed(2)} → ${diff.after.totalCost.toFixed(2)}${diff.costRatio !== null ? `  (${ratio(diff.costRatio)})` : ''}`,
  )
  if (diff.before.executionTime !== null || diff.after.executionTime !== null) {
    lines.push(
      `  time  ${time(diff.before.executionTime)} → ${time(diff.after.executionTime)}${diff.timeRatio !== null ? `  (${ratio(diff.timeRatio)})` : ''}`,
    )
  }
  if (diff.accessChanges.length > 0) {
    lines.push(colors.bold('Access paths'))
    for (const change of diff.accessChanges) {
      const text = `  ${change.relation}: ${change.before.join(', ') || '(not read)'} → ${change.after.join(', ') || '(not read)'}`
      lines.push(change.lostIndex ? colors.red(`${text}  (index no longer used)`) : text)
    }
  }
  if (diff.nodeTypeChanges.length > 0) {
    lines.push(colors.bold('Node changes'))
    for (const change of diff.nodeTypeChanges) lines.push(`  at ${change.path}: ${change.before} became ${change.after}`)
  }
  if (diff.newFindings.length > 0) {
    lines.push(colors.bold('New findings'))
    for (const finding of diff.newFindings) lines.push(`  ${severityMark(finding.severity, colors)} ${finding.node}: ${finding.title}`)
  }
  if (diff.resolvedFindings.length > 0) {
    lines.push(colors.bold('Resolved findings'))
    for (const finding of diff.resolvedFindings) lines.push(`  ${colors.green('✓')} ${finding.node}: ${finding.title}`)
  }
  lines.push('')
  if (diff.regression) {
    lines.push(colors.red(colors.bold('Regression:')))
    for (const reason of diff.regressions) lines.push(colors.red(`  - ${reason}`))
  } else {
    lines.push(
      colors.green(
        `No regression (cost up to ${diff.rules.maxCostRatio}x, time up to ${diff.rules.maxTimeRatio}x or under +${diff.rules.minTimeMs} ms, no new warning or critical finding).`,
      ),
    )
  }
  return lines.join('\n')
}

export function renderPlanDiffMarkdown(diff: PlanDiff): string {
  const lines = [`### Plan diff: \`${diff.before.label}\` → \`${diff.after.label}\``, '']
  lines.push('| | Before | After | Ratio |', '|---|---:|---:|---:|')
  lines.push(
    `| Cost | ${diff.before.totalCost.toFixed(2)} | ${diff.after.totalCost.toFixed(2)} | ${diff.costRatio !== null ? ratio(diff.costRatio) : '—'} |`,
  )
  lines.push(
    `| Execution time | ${time(diff.before.executionTime)} | ${time(diff.after.executionTime)} | ${diff.timeRatio !== null ? ratio(diff.timeRatio) : '—'} |`,
  )
  if (diff.accessChanges.length > 0) {
    lines.push('', '**Access paths**', '')
    for (const change of diff.accessChanges)
      lines.push(
        `- \`${change.relation}\`: ${change.before.join(', ') || '(not read)'} → ${change.after.join(', ') || '(not read)'}${change.lostIndex ? ' ⚠️ index no longer used' : ''}`,
      )
  }
  if (diff.nodeTypeChanges.length > 0) {
    lines.push('', '**Node changes**', '')
    for (const change of diff.nodeTypeChanges) lines.push(`- ${change.before} became ${change.after}`)
  }
  if (diff.newFindings.length > 0) {
    lines.push('', '**New findings**', '')
    for (const finding of diff.newFindings) lines.push(`- **${finding.severity}** \`${finding.node}\`: ${finding.title}`)
  }
  lines.push('', diff.regression ? `**Regression**: ${diff.regressions.join('; ')}` : '**No regression.**')
  return lines.join('\n')
}

function ratio(value: number): string {
  return `${value.toFixed(value >= 10 ? 1 : 2)}x`
}

function time(ms: number | null): string {
  return ms === null ? '—' : formatDuration(ms)
}

function count(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2)
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|')
}
