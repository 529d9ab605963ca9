import { renderTable, type Palette } from '../core/index.js'
import type { BackendStats, DrainResult, TrafficSnapshot } from './control.js'

export interface RouterStatus {
  engine: 'builtin' | 'haproxy'
  target: string
  routes: TrafficSnapshot['routes']
  backends: BackendStats[]
}

const ms = (value: number | undefined) => (value === undefined ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(0))

export function renderRouterStatus(status: RouterStatus, colors: Palette): string {
  const table = renderTable(status.backends, [
    { header: 'backend', value: (backend) => `${backend.pool}/${backend.backend}` },
    { header: 'address', value: (backend) => backend.address },
    { header: 'weight', value: (backend) => `${backend.weight}%`, align: 'right' },
    { header: 'state', value: (backend) => (backend.state === 'ready' ? backend.state : colors.yellow(backend.state)) },
    {
      header: 'health',
      value: (backend) =>
        backend.health.up ? colors.green('up') : colors.red(`down${backend.health.reason ? ` (${backend.health.reason})` : ''}`),
    },
    { header: 'in flight', value: (backend) => backend.inFlight },
    { header: 'requests', value: (backend) => backend.requests },
    {
      header: '5xx+conn',
      value: (backend) => {
        const errors = backend.outcomes['5xx'] + backend.outcomes.connection
        return errors === 0 ? '0' : colors.red(String(errors))
      },
      align: 'right',
    },
    {
      header: 'p50 / p99 ms',
      value: (backend) =>
        backend.latency.source === 'histogram'
          ? `${ms(backend.latency.p50)} / ${ms(backend.latency.p99)}`
          : `avg ${ms(backend.latency.mean)}`,
    },
  ])
  const routes = status.routes.length
    ? `\n${colors.dim('routes:')} ${status.routes.map((route) => `${route.prefix} -> ${route.pool}`).join(', ')}`
    : ''
  return `${colors.dim(`${status.engine === 'haproxy' ? 'HAProxy at' : 'router at'} ${status.target}`)}\n${table}${routes}`
}

export function renderWeights(snapshot: TrafficSnapshot & { pool: string }, colors: Palette): string {
  const pool = snapshot.pools.find((candidate) => candidate.name === snapshot.pool)
  const shares = pool?.backends.map((backend) => `${backend.name} ${colors.bold(`${backend.weight}%`)}`).join(', ') ?? ''
  return `${snapshot.pool}: ${shares}`
}

export function renderDrain(result: DrainResult, colors: Palette): string {
  if (result.drained)
    return `${colors.green('drained')} ${result.pool}/${result.backend} in ${result.waitedMs} ms (${result.inFlightAtStart} in flight at start); no new requests go to it.`
  return `${colors.yellow('not drained')} ${result.pool}/${result.backend}: ${result.remaining} request(s) still in flight after ${result.waitedMs} ms.`
}

export function renderState(snapshot: TrafficSnapshot & { backend: string }, _colors: Palette): string {
  for (const pool of snapshot.pools) {
    const backend = pool.backends.find(
      (candidate) => candidate.name === snapshot.backend || `${pool.name}/${candidate.name}` === snapshot.backend,
    )
    if (backend)
      return `${pool.name}/${backend.name} is ${backend.state} (weight ${backend.weight}%, ${backend.health.up ? 'up' : 'down'}).`
  }
  return `${snapshot.backend}: done.`
}

export interface RouterStarted {
  url: string
  adminUrl: string
  pid: number
  restored: boolean
  tokenFile: string
  backends: Array<{ pool: string; name: string; url: string; weight: number; state: string }>
  routes: TrafficSnapshot['routes']
}

export function renderRouterStarted(started: RouterStarted, colors: Palette): string {
  const lines = [
    `${colors.green('Routing')} on ${colors.bold(started.url)}  (admin API ${started.adminUrl}, token in ${started.tokenFile})`,
    ...started.backends.map(
      (backend) =>
        `  ${backend.pool}/${backend.name} ${backend.url} ${backend.weight}%${backend.state === 'ready' ? '' : ` ${backend.state}`}`,
    ),
    ...started.routes.map((route) => `  route ${route.prefix} -> ${route.pool}`),
  ]
  if (started.restored) lines.push(colors.dim('  weights and states restored from the saved state (--reset to start afresh)'))
  lines.push(colors.dim('Ctrl-C stops it gracefully.'))
  return lines.join('\n')
}
