/**
 * `TrafficControl` over HAProxy's runtime API (the admin-level stats socket): weights with `set
 * server <pool>/<server> weight`, states with `set server ... state ready|drain|maint`, counters
 * from `show stat` and admin/operational states from `show servers state`. No reload, no dropped
 * connection. A pool is an HAProxy backend; a backend is one of its servers.
 *
 * What HAProxy cannot give: raw latency samples (`show stat` has counters, and averages of the
 * last 1024 requests). `samples()` returns counter deltas over the window with no `latencyMs`,
 * an `unavailable` reason and HAProxy's averages, so the canary judge falls back to counters.
 * Deltas need a baseline: the driver remembers the counters of every call it makes, so call
 * `stats()` or `samples()` when a window starts (the deploy module does at each step).
 */
import { connect } from 'node:net'
import { badInput, environmentError } from '../core/index.js'
import {
  emptyOutcomes,
  type AdminState,
  type BackendStats,
  type BackendWindow,
  type DrainOptions,
  type DrainResult,
  type OutcomeCounts,
  type SampleRequest,
  type SampleWindow,
  type TrafficChange,
  type TrafficControl,
  type TrafficSnapshot,
} from './control.js'
import { sampleWindowStart } from './engine.js'
import type { HaproxyLogListener } from './haproxy-log.js'
import { checkPoolWeights } from './topology.js'

export interface HaproxyOptions {
  /** Path of the stats socket declared with `level admin`. */
  socket: string
  /** Per command (default 5000 ms). */
  timeoutMs?: number
  /** Changes made through this driver, for the journal. */
  onChange?: (change: TrafficChange) => void
  /** How often drain polls the server's current sessions (default 100 ms). */
  pollMs?: number
  /**
   * HAProxy's request log, received by `listenHaproxyLog`: with it, `samples()` has real
   * per-request latencies (from when the listener started) instead of none.
   */
  log?: HaproxyLogListener | Promise<HaproxyLogListener | undefined>
  now?: () => number
}

/** One server line of `show stat`, by column name. */
export type StatRow = Record<string, string>

/** `show stat` CSV -> rows by column name (the header starts with "# "). */
export function parseShowStat(text: string): StatRow[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  const header = lines.find((line) => line.startsWith('# '))
  if (!header) throw environmentError(`HAProxy's show stat answered without a header: ${text.slice(0, 200)}`)
  const columns = header.slice(2).split(',')
  return lines
    .filter((line) => !line.startsWith('#'))
    .map((line) => {
      const cells = line.split(',')
      return Object.fromEntries(columns.map((name, index) => [name, cells[index] ?? '']).filter(([name]) => name !== ''))
    })
}

export interface ServerState {
  pool: string
  server: string
  address: string
  /** 0 stopped, 1 starting, 2 running, 3 stopping */
  opState: number
  adminFlags: number
  userWeight: number
}

/** `show servers state` -> one entry per server. */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  const header = lines.find((line) => line.startsWith('# '))
  if (!header) throw environmentError(`HAProxy's show servers state answered without a header: ${text.slice(0, 200)}`)
  const columns = header.slice(2).trim().split(/\s+/)
  const at = (name: string) => columns.indexOf(name)
  return lines
    .filter((line) => !line.startsWith('#') && /\s/.test(line.trim()))
    .map((line) => {
      const cells = line.trim().split(/\s+/)
      return {
        pool: cells[at('be_name')]!,
        server: cells[at('srv_name')]!,
        address: `${cells[at('srv_addr')]}:${cells[at('srv_port')]}`,
        opState: Number(cells[at('srv_op_state')]),
        adminFlags: Number(cells[at('srv_admin_state')]),
        userWeight: Number(cells[at('srv_uweight')]),
      }
    })
}

const MAINT_FLAGS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
const DRAIN_FLAGS = 0x08 | 0x10

export function adminStateOf(flags: number): AdminState {
  if (flags & MAINT_FLAGS) return 'maint'
  if (flags & DRAIN_FLAGS) return 'drain'
  return 'ready'
}

/** Sends one runtime API command (or several separated by ';') and returns the whole answer. */
export function haproxyCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  if (/[\n\r]/.test(command)) throw badInput('An HAProxy command must be one line')
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const connection = connect(socket)
    const timer = setTimeout(() => connection.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    connection.on('connect', () => connection.end(`${command}\n`))
    connection.on('data', (chunk: Buffer) => chunks.push(chunk))
    connection.on('error', (error: Error & { code?: string }) => {
      clearTimeout(timer)
      reject(
        environmentError(
          `HAProxy's runtime API at ${socket} did not answer: ${error.code ?? error.message}`,
          'Is HAProxy running with `stats socket <path> level admin`? opsctl router haproxy-config prints such a configuration.',
        ),
      )
    })
    connection.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
  })
}

/** Answers of set commands are empty on success; anything else is HAProxy's reason. */
function checkSetAnswer(answer: string, command: string): void {
  const text = answer.trim()
  if (text === '') return
  if (/permission denied/i.test(text))
    throw environmentError(
      `HAProxy refused "${command}": ${text}`,
      'The stats socket needs `level admin` for opsctl to change weights and states.',
    )
  throw environmentError(`HAProxy refused "${command}": ${text}`)
}

interface Counters {
  at: number
  servers: Map<string, { requests: number; outcomes: OutcomeCounts }>
}

export function haproxyTraffic(options: HaproxyOptions): TrafficControl {
  const timeoutMs = options.timeoutMs ?? 5000
  const now = options.now ?? Date.now
  const history: Counters[] = []
  const run = (command: string) => haproxyCommand(options.socket, command, timeoutMs)

  async function read(): Promise<{ rows: StatRow[]; states: ServerState[] }> {
    const [stat, state] = await Promise.all([run('show stat -1 4 -1'), run('show servers state')])
    const rows = parseShowStat(stat).filter((row) => row.svname !== 'BACKEND' && row.svname !== 'FRONTEND')
    const states = parseServersState(state)
    remember(rows)
    return { rows, states }
  }

  function remember(rows: StatRow[]): void {
    const servers = new Map(rows.map((row) => [`${row.pxname}/${row.svname}`, { requests: requestsOf(row), outcomes: outcomesOf(row) }]))
    const at = now()
    // One baseline a second is plenty (a window then starts up to a second early, and says so in `from`); an hour of them.
    if (history.length > 0 && at - history.at(-1)!.at < 1000) return
    history.push({ at, servers })
    if (history.length > 3600) history.shift()
  }

  /** pool/server, or a server name used in one pool only. */
  function resolve(states: ServerState[], name: string): ServerState {
    const slash = name.indexOf('/')
    const matches =
      slash === -1
        ? states.filter((entry) => entry.server === name)
        : states.filter((entry) => entry.pool === name.slice(0, slash) && entry.server === name.slice(slash + 1))
    if (matches.length === 1) return matches[0]!
    const known = states.map((entry) => `${entry.pool}/${entry.server}`).join(', ')
    if (matches.length === 0) throw badInput(`Unknown backend "${name}" (HAProxy servers: ${known})`)
    throw badInput(`"${name}" is a server of several HAProxy backends: name it as pool/server (${known})`)
  }

  async function snapshot(): Promise<TrafficSnapshot> {
    const { rows, states } = await read()
    const pools = new Map<string, TrafficSnapshot['pools'][number]>()
    for (const state of states) {
      const row = rows.find((candidate) => candidate.pxname === state.pool && candidate.svname === state.server)
      let pool = pools.get(state.pool)
      if (!pool) pools.set(state.pool, (pool = { name: state.pool, backends: [] }))
      pool.backends.push({
        name: state.server,
        address: row?.addr || state.address,
        weight: state.userWeight,
        state: adminStateOf(state.adminFlags),
        health: healthOf(state, row),
        inFlight: Number(row?.scur ?? 0),
      })
    }
    return { engine: 'haproxy', pools: [...pools.values()], routes: [] }
  }

  async function setState(name: string, state: AdminState): Promise<TrafficSnapshot> {
    if (state !== 'ready' && state !== 'drain' && state !== 'maint')
      throw badInput(`Unknown state "${String(state)}": ready, drain or maint`)
    const { states } = await read()
    const server = resolve(states, name)
    const previous = adminStateOf(server.adminFlags)
    const command = `set server ${server.pool}/${server.server} state ${state}`
    checkSetAnswer(await run(command), command)
    if (previous !== state) options.onChange?.({ kind: 'state', pool: server.pool, backend: server.server, state, previous })
    return snapshot()
  }

  return {
    engine: 'haproxy',
    snapshot,

    async setWeights(pool, weights) {
      const { states } = await read()
      const members = states.filter((entry) => entry.pool === pool)
      if (members.length === 0) {
        const pools = [...new Set(states.map((entry) => entry.pool))]
        throw badInput(`Unknown pool "${pool}" (HAProxy backends with servers: ${pools.join(', ')})`)
      }
      const checked = checkPoolWeights(
        pool,
        members.map((entry) => entry.server),
        weights,
      )
      const previous = Object.fromEntries(members.map((entry) => [entry.server, entry.userWeight]))
      // One connection, commands in order: HAProxy applies them back to back.
      const command = members.map((entry) => `set server ${pool}/${entry.server} weight ${checked[entry.server]}`).join('; ')
      checkSetAnswer(await run(command), command)
      options.onChange?.({ kind: 'weights', pool, weights: checked, previous })
      return snapshot()
    },

    async drain(name, drainOptions: DrainOptions = {}): Promise<DrainResult> {
      const timeout = drainOptions.timeoutMs ?? 30_000
      const started = now()
      const { rows, states } = await read()
      const server = resolve(states, name)
      const current = () => rows.find((row) => row.pxname === server.pool && row.svname === server.server)
      const inFlightAtStart = Number(current()?.scur ?? 0)
      await setState(`${server.pool}/${server.server}`, 'drain')
      let remaining = inFlightAtStart
      const poll = async () => {
        const stat = parseShowStat(await run(`show stat ${server.pool} 4 -1`))
        remaining = Number(stat.find((row) => row.svname === server.server)?.scur ?? 0)
      }
      await poll()
      while (!drainOptions.noWait && remaining > 0 && now() - started < timeout) {
        await new Promise((resolveWait) => setTimeout(resolveWait, options.pollMs ?? 100))
        await poll()
      }
      const result: DrainResult = {
        backend: server.server,
        pool: server.pool,
        inFlightAtStart,
        drained: remaining === 0,
        remaining,
        waitedMs: Math.round(now() - started),
      }
      if (!drainOptions.noWait) options.onChange?.({ kind: 'drained', pool: server.pool, backend: server.server, result })
      return result
    },

    undrain: (name) => setState(name, 'ready'),
    setState,

    async stats(): Promise<BackendStats[]> {
      const { rows, states } = await read()
      return states.map((state) => {
        const row = rows.find((candidate) => candidate.pxname === state.pool && candidate.svname === state.server) ?? {}
        return {
          pool: state.pool,
          backend: state.server,
          address: row.addr || state.address,
          weight: state.userWeight,
          state: adminStateOf(state.adminFlags),
          health: healthOf(state, row),
          requests: requestsOf(row),
          outcomes: outcomesOf(row),
          inFlight: Number(row.scur ?? 0),
          latency: {
            source: 'haproxy-average',
            ...numberField('mean', row.ttime),
            ...numberField('max', row.ttime_max),
          },
        }
      })
    },

    async samples(request: SampleRequest): Promise<SampleWindow> {
      const at = now()
      const from = sampleWindowStart(request, at)
      // The latest counters taken at or before the window's start are its baseline.
      const baseline = [...history].reverse().find((entry) => entry.at <= from)
      const { rows } = await read()
      const log = await options.log
      const backends: BackendWindow[] = rows.map((row) => {
        const before = baseline?.servers.get(`${row.pxname}/${row.svname}`)
        const outcomes = outcomesOf(row)
        if (before) for (const key of Object.keys(outcomes) as Array<keyof OutcomeCounts>) outcomes[key] -= before.outcomes[key]
        const requests = requestsOf(row) - (before?.requests ?? 0)
        const window: BackendWindow = {
          pool: row.pxname!,
          backend: row.svname!,
          requests,
          outcomes,
          answered: requests - outcomes.connection,
          latency: { source: 'haproxy-average', ...numberField('mean', row.ttime), ...numberField('max', row.ttime_max) },
        }
        if (!log) {
          window.unavailable =
            "HAProxy's runtime API has no per-request latencies (show stat gives averages of the last 1024 requests); give the driver HAProxy's request log for them"
          return window
        }
        // Counts stay the runtime API's (exact over the window); the latencies come from the log.
        const logged = log.collect(`${row.pxname}/${row.svname}`, from, at, request.maxSamples)
        window.latencyMs = logged?.latencyMs ?? []
        window.sampled = logged?.sampled ?? false
        return window
      })
      const uptime = baseline ? undefined : await uptimeStart()
      return {
        from: new Date(baseline?.at ?? uptime ?? from).toISOString(),
        to: new Date(at).toISOString(),
        // With the log, latencies exist only from when the listener started.
        complete: baseline !== undefined && (log === undefined || log.startedAt <= from),
        backends,
      }
    },

    async close() {},
  }

  async function uptimeStart(): Promise<number | undefined> {
    const info = await run('show info')
    const seconds = /^Uptime_sec:\s*(\d+)/m.exec(info)?.[1]
    return seconds === undefined ? undefined : now() - Number(seconds) * 1000
  }
}

function healthOf(state: ServerState, row: StatRow | undefined): BackendStats['health'] {
  const up = state.opState === 2 || state.opState === 1
  const check = row?.check_desc || row?.check_status
  const reason = row?.status && !/^(UP|DRAIN|MAINT)/.test(row.status) ? `${row.status}${check ? `: ${check}` : ''}` : check || undefined
  return { up, ...(reason ? { reason } : {}) }
}

function requestsOf(row: StatRow): number {
  // stot counts sessions; with keep-alive, HTTP requests are the hrsp_* answers plus connection failures.
  const answered = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'].reduce(
    (sum, key) => sum + Number(row[key] || 0),
    0,
  )
  return answered + Number(row.econ || 0) + Number(row.eresp || 0)
}

function outcomesOf(row: StatRow): OutcomeCounts {
  const outcomes = emptyOutcomes()
  outcomes['2xx'] = Number(row.hrsp_1xx || 0) + Number(row.hrsp_2xx || 0)
  outcomes['3xx'] = Number(row.hrsp_3xx || 0)
  outcomes['4xx'] = Number(row.hrsp_4xx || 0)
  outcomes['5xx'] = Number(row.hrsp_5xx || 0) + Number(row.hrsp_other || 0)
  outcomes.connection = Number(row.econ || 0) + Number(row.eresp || 0)
  return outcomes
}

function numberField(name: 'mean' | 'max', text: string | undefined): Partial<Record<'mean' | 'max', number>> {
  return text === undefined || text === '' ? {} : { [name]: Number(text) }
}
