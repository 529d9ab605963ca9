/** Human output of load runs: the result table, thresholds, the comparison, and the live progress line. */
import { formatBytes, formatDuration, renderTable, sparkline, type Palette, type ProgressUpdate } from '../core/index.js'
import type { Comparison, MetricComparison } from './compare.js'
import type { LoadPlan } from './plan.js'
import type { LiveStats } from './recorder.js'
import type { LoadResult } from './result.js'

export function describeModel(
  result: Pick<LoadResult, 'model' | 'connections' | 'arrival' | 'durationMs' | 'requestCount' | 'warmupMs'>,
): string {
  const parts: string[] = []
  if (result.model === 'open' && result.arrival) {
    const { stages, startRate } = result.arrival
    const constant = stages.length === 1 && stages[0]!.target === startRate
    parts.push(
      constant
        ? `open model, ${startRate} rps`
        : `open model, ${[startRate, ...stages.map((stage) => stage.target)].join('→')} rps over ${stages.length} stage${stages.length === 1 ? '' : 's'}`,
    )
    parts.push(`up to ${result.connections} connections`)
  } else parts.push(`closed model, ${result.connections} connections`)
  if (result.requestCount !== undefined) parts.push(`${result.requestCount} requests`)
  else if (result.durationMs !== undefined) parts.push(formatDuration(result.durationMs))
  if (result.warmupMs > 0) parts.push(`warm-up ${formatDuration(result.warmupMs)} excluded`)
  return parts.join(', ')
}

export function renderLoadResult(result: LoadResult, colors: Palette): string {
  const aggregate = result.aggregate
  const lines: string[] = []
  lines.push(`${colors.bold(result.name)} → ${result.target}`)
  lines.push(colors.dim(`${describeModel(result)}${result.runs.length > 1 ? `, ${result.runs.length} runs` : ''}`))
  lines.push('')
  const label = (text: string) => `  ${text.padEnd(10)}`
  const rate = aggregate.rate
  lines.push(
    `${label('requests')}${aggregate.requests.total} in ${formatDuration(aggregate.measuredMs)}: ${colors.bold(`${aggregate.rps.toFixed(1)} rps`)}` +
      (rate ? ` (target ${rate.target.toFixed(1)} rps, achieved ${((rate.achieved / rate.target) * 100).toFixed(1)}%)` : ''),
  )
  const latency = aggregate.latency
  lines.push(
    `${label('latency')}p50 ${formatDuration(latency.p50)}  p90 ${formatDuration(latency.p90)}  p95 ${formatDuration(latency.p95)}  ` +
      `${colors.bold(`p99 ${formatDuration(latency.p99)}`)}  p99.9 ${formatDuration(latency.p999)}  max ${formatDuration(latency.max)}` +
      colors.dim(result.latencyCorrected ? '  (from the intended send time)' : '  (from the actual send; closed model)'),
  )
  const statuses = Object.entries(aggregate.statusCodes).sort(([a], [b]) => Number(a) - Number(b))
  lines.push(
    `${label('status')}${statuses.length ? statuses.map(([status, count]) => `${Number(status) >= 400 ? colors.red(status) : status} × ${count}`).join('   ') : 'none'}`,
  )
  const requests = aggregate.requests
  if (requests.failed > 0) {
    const kinds = [
      requests.errors &&
        `${requests.errors} errors${
          Object.keys(aggregate.errorCodes).length
            ? ` (${Object.entries(aggregate.errorCodes)
                .map(([code, count]) => `${code} ${count}`)
                .join(', ')})`
            : ''
        }`,
      requests.timeouts && `${requests.timeouts} timeouts`,
      requests.unexpectedStatus && `${requests.unexpectedStatus} unexpected status`,
      requests.checkFailed && `${requests.checkFailed} failed body checks`,
    ].filter(Boolean)
    lines.push(`${label('failed')}${colors.red(`${requests.failed} (${(aggregate.errorRate * 100).toFixed(2)}%)`)}: ${kinds.join(', ')}`)
    for (const [reason, count] of Object.entries(aggregate.checkFailures).slice(0, 5))
      lines.push(`${label('')}${colors.dim(`${count} × ${reason}`)}`)
  } else lines.push(`${label('failed')}0`)
  if (requests.dropped > 0)
    lines.push(`${label('dropped')}${colors.yellow(String(requests.dropped))} requests of the schedule were never sent`)
  if (requests.warmup > 0) lines.push(`${label('warm-up')}${requests.warmup} requests excluded`)
  lines.push(`${label('received')}${formatBytes(aggregate.bytesReceived)}`)
  const generators = result.runs.map((run) => run.generator)
  const busiest = Math.max(...generators.map((generator) => generator.eventLoopUtilization))
  const cpu = Math.max(...generators.map((generator) => generator.cpuCores))
  const threads = generators[0]?.threads ?? 1
  lines.push(
    `${label('generator')}${threads} thread${threads === 1 ? '' : 's'}, event loop ${(busiest * 100).toFixed(0)}% busy, ${cpu.toFixed(2)} cores`,
  )

  const series = result.runs.flatMap((run) => run.series.filter((second) => !second.partial))
  if (series.length > 1) {
    lines.push('')
    lines.push(
      `${label('rps/s')}${sparkline(series.map((second) => second.rps))}  ${colors.dim(`${Math.min(...series.map((s) => s.rps)).toFixed(0)}–${Math.max(...series.map((s) => s.rps)).toFixed(0)}`)}`,
    )
    const p99s = series.map((second) => second.p99 ?? 0)
    lines.push(
      `${label('p99/s')}${sparkline(p99s)}  ${colors.dim(`${formatDuration(Math.min(...p99s))}–${formatDuration(Math.max(...p99s))}`)}`,
    )
  }

  if (aggregate.perRequest.length > 1) {
    lines.push('')
    lines.push(
      indent(
        renderTable(aggregate.perRequest, [
          { header: 'request', value: (row) => row.name },
          { header: 'requests', value: (row) => row.requests },
          { header: 'failed', value: (row) => row.failed },
          { header: 'p50', value: (row) => formatDuration(row.p50), align: 'right' },
          { header: 'p99', value: (row) => formatDuration(row.p99), align: 'right' },
        ]),
      ),
    )
  }

  if (result.thresholds.length > 0) {
    lines.push('')
    lines.push(colors.bold('thresholds'))
    for (const outcome of result.thresholds) {
      lines.push(`  ${outcome.passed ? colors.green('✓') : colors.red('✗')} ${outcome.threshold.padEnd(18)} ${outcome.description}`)
    }
  }
  if (result.comparison) {
    lines.push('')
    lines.push(renderComparison(result.comparison, colors))
  }
  if (!result.validity.valid) {
    lines.push('')
    lines.push(colors.red(colors.bold('invalid measurement')))
    for (const reason of result.validity.reasons) lines.push(`  ${colors.red('!')} ${reason.message}`)
  }
  return lines.join('\n')
}

export function renderComparison(comparison: Comparison, colors: Palette): string {
  const color =
    comparison.verdict === 'regressed'
      ? colors.red
      : comparison.verdict === 'improved'
        ? colors.green
        : comparison.verdict === 'inconclusive'
          ? colors.yellow
          : String
  const lines = [
    `${colors.bold('compared with the baseline')} (${comparison.baseline.name}, ${comparison.baseline.runs} run${comparison.baseline.runs === 1 ? '' : 's'}): ${color(colors.bold(comparison.verdict))}`,
  ]
  const format = (metric: MetricComparison, value: number) =>
    metric.metric === 'error_rate' ? `${(value * 100).toFixed(2)}%` : metric.metric === 'rps' ? value.toFixed(1) : formatDuration(value)
  const change = (metric: MetricComparison) => {
    if (!Number.isFinite(metric.change)) return '—'
    const scale = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}${metric.metric === 'error_rate' ? 'pp' : '%'}`
    return `${scale(metric.change)} [${scale(metric.interval.low)}, ${scale(metric.interval.high)}]`
  }
  lines.push(
    indent(
      renderTable(comparison.metrics, [
        { header: 'per second', value: (metric) => metric.metric },
        {
          header: 'baseline',
          value: (metric) => (Number.isFinite(metric.baseline.median) ? format(metric, metric.baseline.median) : '—'),
          align: 'right',
        },
        {
          header: 'current',
          value: (metric) => (Number.isFinite(metric.current.median) ? format(metric, metric.current.median) : '—'),
          align: 'right',
        },
        { header: 'change [95% CI]', value: change, align: 'right' },
        {
          header: 'p',
          value: (metric) => (Number.isFinite(metric.pValue) ? (metric.pValue < 0.001 ? '<0.001' : metric.pValue.toFixed(3)) : '—'),
          align: 'right',
        },
        {
          header: "Cliff's δ",
          value: (metric) => (Number.isFinite(metric.cliffsDelta) ? `${metric.cliffsDelta.toFixed(2)} ${metric.magnitude}` : '—'),
          align: 'right',
        },
        { header: 'samples', value: (metric) => `${metric.baseline.samples}/${metric.current.samples}`, align: 'right' },
        { header: 'verdict', value: (metric) => metric.verdict },
      ]),
    ),
  )
  return lines.join('\n')
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}

/** The live progress of a run as a task: elapsed seconds (or requests) of the total, with rate, p99 and failures so far. */
export function loadProgressUpdate(live: LiveStats, plan: LoadPlan, run: number): ProgressUpdate {
  const byTime = plan.durationMs !== undefined
  const total = byTime ? Math.round((plan.warmupMs + plan.durationMs!) / 1000) : (plan.requests ?? 0)
  const p99 = live.p99 === undefined ? '—' : formatDuration(live.p99)
  return {
    task: `load${run > 1 ? ` #${run}` : ''}`,
    done: byTime ? Math.floor(live.elapsedMs / 1000) : live.requests,
    total,
    detail: `${live.rps} rps · p99 ${p99} · ${live.failed} failed`,
  }
}
