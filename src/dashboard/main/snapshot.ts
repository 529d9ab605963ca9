/** `dashboard --once`: every source read once, as text for a log or CI, or as data for --json. Pure but for collectOnce. */
import { formatLocalTime } from '../../core/index.js'
import { PANELS, emptyData, nextState, withTrafficHistory, type DashboardData, type SourceState, type TrafficData } from './model.js'
import type { Sources } from './sources.js'

export async function collectOnce(sources: Sources, timeoutMs: number): Promise<DashboardData> {
  const data = emptyData()
  const now = Date.now()
  await Promise.all(
    PANELS.map(async (panel) => {
      let outcome: { data: unknown } | { error: Error }
      try {
        outcome = {
          data: await Promise.race([
            sources.loaders[panel](),
            new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs).unref()),
          ]),
        }
      } catch (error) {
        outcome = { error: error as Error }
      }
      ;(data as unknown as Record<string, SourceState<unknown>>)[panel] = nextState(data[panel] as SourceState<unknown>, outcome, now)
    }),
  )
  if (data.traffic.status === 'live') data.history = withTrafficHistory({}, data.traffic.data as TrafficData)
  return data
}

const fixed = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(1))

export function renderSnapshot(data: DashboardData, takenAt = Date.now()): string {
  const lines = [`opsctl dashboard · ${formatLocalTime(new Date(takenAt).toISOString())}`]
  const section = (title: string, state: SourceState<unknown>, body: () => string[]) => {
    lines.push('', `${title} (${state.status === 'unconfigured' ? 'not configured' : state.status})`)
    if (state.status === 'unconfigured') lines.push(`  ${state.reason}`)
    else if (state.status === 'stale') lines.push(`  no answer: ${state.error}`)
    else if (state.status === 'live') lines.push(...body().map((text) => `  ${text}`))
  }
  section('Traffic', data.traffic, () =>
    data.traffic.status === 'live'
      ? data.traffic.data.backends.map(
          (backend) =>
            `${backend.pool}/${backend.backend} ${backend.weight}%${backend.up ? '' : ' DOWN'} · ${fixed(backend.rps)} rps · errors ${backend.errorRate === undefined ? '-' : `${(backend.errorRate * 100).toFixed(1)}%`} · p50 ${fixed(backend.p50)} ms · p99 ${fixed(backend.p99)} ms`,
        )
      : [],
  )
  section('Deploy', data.deploy, () =>
    data.deploy.status === 'live'
      ? data.deploy.data.length === 0
        ? ['no rollout running']
        : data.deploy.data.flatMap((rollout) => [
            `${rollout.id} ${rollout.strategy} of ${rollout.service}: ${rollout.status} · ${rollout.position}`,
            ...rollout.verdicts.map((verdict) => `  ${verdict.status} at ${verdict.weight}%: ${verdict.line}`),
          ])
      : [],
  )
  section('Flags', data.flags, () =>
    data.flags.status === 'live'
      ? data.flags.data.map(
          (flag) =>
            `${flag.name} ${Object.entries(flag.environments)
              .map(([name, on]) => `${name}:${on ? 'on' : 'off'}`)
              .join(' ')}${flag.stale ? ' (stale)' : ''}${flag.evaluations !== undefined ? ` · ${flag.evaluations} evaluations` : ''}`,
        )
      : [],
  )
  section('Incidents', data.incidents, () =>
    data.incidents.status === 'live'
      ? data.incidents.data.length === 0
        ? ['no open incident']
        : data.incidents.data.map(
            (incident) =>
              `${incident.severity} ${incident.id} ${incident.status} · ${incident.title} · opened ${formatLocalTime(incident.openedAt)}${incident.commander ? ` · IC ${incident.commander}` : ''}${incident.lastEntry ? ` · last: ${incident.lastEntry}` : ''}`,
          )
      : [],
  )
  section('Queries', data.queries, () =>
    data.queries.status === 'live'
      ? [
          data.queries.data.connections ?? 'connections: -',
          ...(data.queries.data.waitingOnLocks ? [`${data.queries.data.waitingOnLocks} sessions waiting on locks`] : []),
          ...data.queries.data.findings,
          ...data.queries.data.statements,
        ]
      : [],
  )
  section('Journal', data.journal, () =>
    data.journal.status === 'live'
      ? data.journal.data.map((row) => `${formatLocalTime(row.time)} ${row.kind} ${row.subject}: ${row.summary}`)
      : [],
  )
  return lines.join('\n')
}
