/** Human output of profile runs, leak hunts and diffs. Pure. */
import { isAbsolute, relative } from 'node:path'
import { formatBytes, formatDuration, renderTable, type Palette } from '../core/index.js'
import type { ProfileRun } from './capture.js'
import type { DiffRun } from './diff-files.js'
import type { FunctionStat } from './summary.js'
import type { LeakRun } from './leak-run.js'
import { describeExit } from './target.js'

const pct = (share: number) => `${(share * 100).toFixed(1)}%`
const points = (delta: number) => {
  const size = Math.abs(delta * 100).toFixed(2)
  return `${delta < 0 && size !== '0.00' ? '-' : '+'}${size} pts`
}
const count = (value: number) => Math.round(value).toLocaleString('en-US')
const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((line) => by + line)
    .join('\n')

/** Paths under the working directory as relative ones: shorter, and still clickable in a terminal. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const inside = relative(cwd, path)
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path
}

function functionTable(stats: FunctionStat[], unit: 'samples' | 'bytes', by: 'self' | 'total'): string {
  const amount = (value: number) => (unit === 'bytes' ? formatBytes(value) : count(value))
  return renderTable(stats, [
    { header: '#', value: (row) => stats.indexOf(row) + 1 },
    { header: 'function', value: (row) => row.name },
    { header: 'where', value: (row) => row.location || '(native)' },
    { header: by === 'self' ? 'self' : 'total', value: (row) => pct(by === 'self' ? row.selfShare : row.totalShare), align: 'right' },
    { header: by === 'self' ? 'total' : 'self', value: (row) => pct(by === 'self' ? row.totalShare : row.selfShare), align: 'right' },
    { header: unit, value: (row) => amount(by === 'self' ? row.self : row.total), align: 'right' },
  ])
}

function targetLine(run: Pick<ProfileRun, 'target'>, colors: Palette): string[] {
  const exit = run.target.exit
  const lines: string[] = []
  if (exit)
    lines.push(
      `Target: pid ${run.target.pid}, ${exit.stoppedByOpsctl ? 'stopped by opsctl' : colors.red('ended by itself')} (${describeExit(exit)})`,
    )
  const tail = run.target.stderrTail.filter((line) => line.trim() !== '').slice(-5)
  if (tail.length) lines.push(colors.dim(`Its stderr ended with:\n${indent(tail.join('\n'))}`))
  return lines
}

export function renderProfileRun(run: ProfileRun, colors: Palette): string {
  const lines: string[] = []
  const heap = run.mode === 'heap'
  lines.push(colors.bold(`${heap ? 'Allocations' : 'CPU profile'} of ${run.target.label}${run.url ? ` under load at ${run.url}` : ''}`))
  if (run.load) {
    const load = run.load
    lines.push(
      `  load      ${count(load.requests)} requests in ${formatDuration(load.measuredMs)}: ${load.rps.toFixed(1)} rps, p50 ${formatDuration(load.p50Ms)}, p99 ${formatDuration(load.p99Ms)}, ` +
        (load.failed ? colors.red(`${count(load.failed)} failed (${pct(load.errorRate)})`) : '0 failed'),
    )
    if (run.targetCpuMs !== undefined && load.measuredMs > 0)
      lines.push(
        `  target    ${formatDuration(run.targetCpuMs)} of CPU during the load (${pct(run.targetCpuMs / load.measuredMs)} of one core)` +
          (load.requests > 0 ? `, ${formatDuration(run.targetCpuMs / load.requests)} per request` : ''),
      )
  }
  const summary = run.summary
  if (summary) {
    if (heap) lines.push(`  sampled   ${formatBytes(summary.total)} allocated (estimate from sampling, collected or not)`)
    else {
      lines.push(
        `  samples   ${count(summary.total)}${summary.durationMs !== undefined ? ` over ${formatDuration(summary.durationMs)}` : ''}`,
      )
      const { gc, idle, native, js } = summary.shares
      lines.push(`  time      GC ${pct(gc)}   idle ${pct(idle)}   native ${pct(native)}   JavaScript ${pct(js)}`)
    }
    lines.push(`  frames    ${run.attribution.description}`)
    lines.push('')
    lines.push(colors.bold(heap ? 'Top allocation sites by bytes' : 'Top functions by self time'))
    lines.push(summary.topSelf.length ? indent(functionTable(summary.topSelf, summary.unit, 'self')) : '  (no samples)')
    const app = summary.topSelfApp.slice(0, Math.min(5, summary.topSelfApp.length))
    // only worth a table when dependencies or Node's core push the app's own code down the list
    const shownFirst = new Set(summary.topSelf.slice(0, app.length).map((stat) => stat.frame))
    if (app.length && app.some((stat) => !shownFirst.has(stat.frame))) {
      lines.push('')
      lines.push(
        colors.bold(`${heap ? 'Top allocation sites' : 'Top functions'} in the app's own code`) +
          colors.dim(' (without Node core, native code and node_modules)'),
      )
      lines.push(indent(functionTable(app, summary.unit, 'self')))
    }
    if (!heap) {
      lines.push('')
      lines.push(colors.bold('Top functions by total time'))
      lines.push(indent(functionTable(summary.topTotal, summary.unit, 'total')))
    }
  } else lines.push(colors.yellow('  No profile was written by the target.'))
  if (run.interrupted) lines.push(colors.yellow('\nInterrupted: the profile covers the run until Ctrl-C.'))
  lines.push('')
  lines.push(colors.bold('Files'))
  const files = run.files
  const rows: Array<[string, string | undefined]> = [
    [
      'flame graph',
      files.flamegraph &&
        `${displayPath(files.flamegraph)}${run.flamegraph ? colors.dim(` (${run.flamegraph.renderer === '0x' ? '0x' : "opsctl's renderer"})`) : ''}`,
    ],
    ['folded', files.folded && displayPath(files.folded)],
    ['cpuprofile', files.cpuprofile && displayPath(files.cpuprofile)],
    ['heapprofile', files.heapprofile && displayPath(files.heapprofile)],
  ]
  for (const [label, value] of rows) if (value) lines.push(`  ${label.padEnd(12)}${value}`)
  lines.push(...targetLine(run, colors))
  if (run.journal && !run.journal.recorded) lines.push(colors.yellow(`Not recorded in the journal: ${run.journal.error}`))
  return lines.join('\n')
}

export function renderLeakRun(run: LeakRun, colors: Palette): string {
  const lines: string[] = []
  const report = run.report
  lines.push(colors.bold(`Heap growth of ${run.target.label}${run.url ? ` under load at ${run.url}` : ''}`))
  if (run.load)
    lines.push(
      `  load      ${count(run.load.requests)} requests in ${formatDuration(run.load.measuredMs)} (${run.load.rps.toFixed(1)} rps) between the snapshots`,
    )
  if (report) {
    const delta = report.heapAfter - report.heapBefore
    lines.push(
      `  heap      ${formatBytes(report.heapBefore)} → ${formatBytes(report.heapAfter)} reachable after a forced GC (${delta >= 0 ? '+' : '-'}${formatBytes(Math.abs(delta))})`,
    )
    lines.push('')
    if (report.suspects.length === 0) {
      lines.push(
        colors.green(`No leak suspect: nothing grew by ${formatBytes(report.minGrowthBytes)} or more (the noise floor, --min-growth).`),
      )
    } else {
      lines.push(colors.bold(`Leak suspects (grew by ${formatBytes(report.minGrowthBytes)} or more)`))
      report.suspects.forEach((suspect, index) => {
        lines.push(`  ${index + 1}. ${colors.red(suspect.summary)}  ${colors.dim(`@${suspect.id}`)}`)
        if (index === 0 && suspect.path.length) {
          lines.push(colors.dim('     retained through:'))
          lines.push(colors.dim(indent(suspect.path.map((step) => `${step.edge} → ${step.object}`).join('\n'), '       ')))
        }
      })
    }
    if (report.constructors.length) {
      lines.push('')
      lines.push(colors.bold('What grew, by constructor'))
      lines.push(
        indent(
          renderTable(report.constructors, [
            { header: 'constructor', value: (row) => row.constructor },
            { header: 'count', value: (row) => `${count(row.countBefore)} → ${count(row.countAfter)}`, align: 'right' },
            {
              header: '+count',
              value: (row) => `${row.countAfter >= row.countBefore ? '+' : ''}${count(row.countAfter - row.countBefore)}`,
              align: 'right',
            },
            { header: 'own size', value: (row) => `${formatBytes(row.selfBefore)} → ${formatBytes(row.selfAfter)}`, align: 'right' },
            { header: '+size', value: (row) => `+${formatBytes(row.selfAfter - row.selfBefore)}`, align: 'right' },
          ]),
        ),
      )
    }
  }
  lines.push('')
  lines.push(colors.bold('Snapshots') + colors.dim(' (Chrome DevTools → Memory → Load; compare them there)'))
  if (run.snapshots.before) lines.push(`  before      ${displayPath(run.snapshots.before)}`)
  if (run.snapshots.after) lines.push(`  after       ${displayPath(run.snapshots.after)}`)
  if (run.files.report) lines.push(`  report      ${displayPath(run.files.report)}`)
  lines.push(...targetLine(run, colors))
  return lines.join('\n')
}

export function renderDiffRun(run: DiffRun, colors: Palette): string {
  const lines: string[] = []
  lines.push(colors.bold('Functions whose share of self time changed most'))
  lines.push(colors.dim(`  shares of on-CPU samples: before ${count(run.before.total)}, after ${count(run.after.total)} (idle left out)`))
  lines.push(
    indent(
      renderTable(run.changes, [
        { header: '#', value: (row) => run.changes.indexOf(row) + 1 },
        { header: 'function', value: (row) => row.name },
        { header: 'where', value: (row) => row.location || '(native)' },
        { header: 'before', value: (row) => pct(row.before.selfShare), align: 'right' },
        { header: 'after', value: (row) => pct(row.after.selfShare), align: 'right' },
        {
          header: 'change',
          value: (row) =>
            row.selfDelta > 0 ? colors.red(points(row.selfDelta)) : row.selfDelta < 0 ? colors.cyan(points(row.selfDelta)) : points(0),
          align: 'right',
        },
      ]),
    ),
  )
  lines.push('')
  lines.push(`Differential flame graph: ${displayPath(run.html)} ${colors.dim('(red grew, blue shrank)')}`)
  if (run.gate) {
    const limit = `${(run.gate.maxGrowth * 100).toFixed(2).replace(/\.?0+$/, '')}%`
    if (run.gate.passed) lines.push(colors.green(`Max growth ${limit}: passed, no function's self share grew by more.`))
    else {
      lines.push(
        colors.red(
          `Max growth ${limit}: failed, ${run.gate.exceeded.length} function${run.gate.exceeded.length === 1 ? '' : 's'} grew by more:`,
        ),
      )
      for (const change of run.gate.exceeded.slice(0, 10))
        lines.push(
          `  ${change.name} ${colors.dim(change.location)} ${pct(change.before.selfShare)} → ${pct(change.after.selfShare)} (${points(change.selfDelta)})`,
        )
    }
  }
  return lines.join('\n')
}
