/**
 * The dashboard's data, as plain values: what each panel shows, and how a source's state moves
 * between live, stale and not configured. Pure; the sources (adapters) and the Ink view use it.
 */

export type PanelName = 'traffic' | 'deploy' | 'flags' | 'incidents' | 'queries' | 'journal'
export const PANELS: readonly PanelName[] = ['traffic', 'deploy', 'flags', 'incidents', 'queries', 'journal']

/**
 * A source's state. live: its last refresh answered. stale: the last answer is `ageMs` old and
 * the refreshes since failed (the error says why). unconfigured: nothing to read (the reason says
 * what to set up). loading: no answer yet.
 */
export type SourceState<T> =
  | { status: 'loading' }
  | { status: 'unconfigured'; reason: string }
  | { status: 'live'; data: T; updatedAt: number }
  | { status: 'stale'; data?: T; updatedAt?: number; error: string }

/** A source that is not set up says so instead of failing: the panel shows the reason. */
export class NotConfigured extends Error {}

/** The next state of a source after a refresh: an answer, a failure, or "not configured". */
export function nextState<T>(previous: SourceState<T>, outcome: { data: T } | { error: Error }, now: number): SourceState<T> {
  if ('data' in outcome) return { status: 'live', data: outcome.data, updatedAt: now }
  if (outcome.error instanceof NotConfigured) return { status: 'unconfigured', reason: outcome.error.message }
  const last = previous.status === 'live' || previous.status === 'stale' ? previous : undefined
  return {
    status: 'stale',
    error: outcome.error.message,
    ...(last?.data !== undefined ? { data: last.data } : {}),
    ...(last?.updatedAt !== undefined ? { updatedAt: last.updatedAt } : {}),
  }
}

/** One backend's numbers over the last refresh window. */
export interface BackendTraffic {
  pool: string
  backend: string
  weight: number
  up: boolean
  rps: number
  errorRate: number | undefined
  p50: number | undefined
  p99: number | undefined
}

export interface TrafficData {
  engine: string
  backends: BackendTraffic[]
}

export interface RolloutData {
  id: string
  strategy: string
  service: string
  status: string
  /** One line: where it is (weights, step, sides). */
  position: string
  verdicts: Array<{ status: string; weight: number; line: string }>
}

export interface FlagRow {
  name: string
  /** environment -> on */
  environments: Record<string, boolean>
  stale: boolean
  evaluations?: number | undefined
}

export interface IncidentRow {
  id: string
  title: string
  severity: string
  status: string
  openedAt: string
  commander?: string | undefined
  lastEntry?: string | undefined
}

export interface QueryData {
  /** Connections: "12 of 97 usable (12%)". */
  connections?: string | undefined
  waitingOnLocks: number
  statements: string[]
  findings: string[]
}

export interface JournalRow {
  time: string
  kind: string
  subject: string
  summary: string
}

export interface DashboardData {
  traffic: SourceState<TrafficData>
  deploy: SourceState<RolloutData[]>
  flags: SourceState<FlagRow[]>
  incidents: SourceState<IncidentRow[]>
  queries: SourceState<QueryData>
  journal: SourceState<JournalRow[]>
  /** Per backend (pool/name): recent values for sparklines, oldest first. */
  history: Record<string, { rps: number[]; errorRate: number[]; p50: number[]; p99: number[] }>
}

export const HISTORY_POINTS = 60

export function emptyData(): DashboardData {
  const loading = { status: 'loading' } as const
  return { traffic: loading, deploy: loading, flags: loading, incidents: loading, queries: loading, journal: loading, history: {} }
}

/** Adds a traffic refresh to the sparkline history, keeping the last HISTORY_POINTS per series. */
export function withTrafficHistory(history: DashboardData['history'], traffic: TrafficData): DashboardData['history'] {
  const next: DashboardData['history'] = { ...history }
  for (const backend of traffic.backends) {
    const key = `${backend.pool}/${backend.backend}`
    const series = next[key] ?? { rps: [], errorRate: [], p50: [], p99: [] }
    const push = (values: number[], value: number | undefined) => [...values, value ?? Number.NaN].slice(-HISTORY_POINTS)
    next[key] = {
      rps: push(series.rps, backend.rps),
      errorRate: push(series.errorRate, backend.errorRate),
      p50: push(series.p50, backend.p50),
      p99: push(series.p99, backend.p99),
    }
  }
  return next
}

const BARS = '▁▂▃▄▅▆▇█'

/** A sparkline of the last `width` values; gaps (NaN) as spaces. */
export function sparkline(values: readonly number[], width = 20): string {
  const shown = values.slice(-width)
  const finite = shown.filter((value) => Number.isFinite(value))
  if (finite.length === 0) return ' '.repeat(shown.length)
  const min = Math.min(...finite)
  const max = Math.max(...finite)
  return shown
    .map((value) => {
      if (!Number.isFinite(value)) return ' '
      if (max === min) return BARS[0]
      return BARS[Math.min(BARS.length - 1, Math.floor(((value - min) / (max - min)) * BARS.length))]
    })
    .join('')
}

/** "12s" since the last answer, for a stale panel. */
export function staleAge(state: SourceState<unknown>, now: number): string | undefined {
  if (state.status !== 'stale' || state.updatedAt === undefined) return undefined
  const seconds = Math.max(0, Math.round((now - state.updatedAt) / 1000))
  return seconds < 120 ? `${seconds}s` : `${Math.round(seconds / 60)}m`
}
