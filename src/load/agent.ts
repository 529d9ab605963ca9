/**
 * The load agent: one per thread that generates load (the main thread, or each autocannon
 * worker thread). autocannon owns the connections, the HTTP parsing and the timeouts; the agent
 * takes over each client's "send the next request" step (autocannon 8's `Client#_doRequest`) so
 * that it can
 *   - pace an open model by the arrival schedule, and time each request from its intended send,
 *   - pick a request by weight and fill its variables,
 *   - judge the status and the body, and
 *   - stop by itself at the end of the run or of its share of the requests.
 * Samples go to a sink in batches: straight to the recorder in the main thread, over a
 * BroadcastChannel from a worker thread.
 */
import { performance } from 'node:perf_hooks'
import { Pacer, arrivalsBy, scaleArrival } from './arrival.js'
import { chooseByWeight, compileRequest, cumulativeWeights, type CompiledRequest, type LoadPlan } from './plan.js'
import { seededRandom, type Random } from '../core/index.js'
import { checkBody, variableSource, type Values } from './template.js'

export const Outcome = { Ok: 0, UnexpectedStatus: 1, CheckFailed: 2, Error: 3, Timeout: 4 } as const

export interface SampleBatch {
  thread: number
  count: number
  /** Start of each request (intended in the open model, actual in the closed), ms since the run start. */
  starts: Float64Array
  /** When each request actually went out, ms since the run start (later than its start when it was overdue). */
  sends: Float64Array
  /** Milliseconds, from that start to the end of the response (or the error). */
  latencies: Float64Array
  statuses: Uint16Array
  outcomes: Uint8Array
  bytes: Uint32Array
  specs: Uint16Array
  /** "ECONNRESET": 3 */
  errorCodes: Record<string, number>
  /** "list orders: body does not contain ...": 2 */
  checkFailures: Record<string, number>
}

export interface AgentReport {
  thread: number
  /** Share of the agent's active time its event loop was busy (0-1). */
  eventLoopUtilization: number
  sent: number
  /** Requests still waiting for an answer when autocannon closed their connection. */
  unfinished: number
}

export interface AgentSink {
  samples(batch: SampleBatch): void
  done(report: AgentReport): void
}

export interface AgentAssignment {
  thread: number
  threads: number
  /** Common start of the run, epoch milliseconds (performance.timeOrigin + performance.now()). */
  startAt: number
  plan: LoadPlan
}

/** The parts of autocannon 8's Client the agent uses. */
export interface AutocannonClient {
  opts: { initialContext?: unknown }
  destroyed: boolean
  _doRequest(): void
  destroy(): void
  timeoutTicker: { reschedule(ms: number): void }
  requestIterator: {
    currentRequest: unknown
    nextRequest(): unknown
    recordBody(request: unknown, status: number, body: string, headers: unknown): void
  }
  pipelinedRequests: { clear(): void }
  on(event: 'response', listener: (status: number, bytes: number) => void): unknown
  on(event: 'timeout', listener: () => void): unknown
  on(event: 'connError', listener: (error: Error & { code?: string }) => void): unknown
}

interface InFlight {
  spec: number
  values: Values
  intendedAt: number
  sentAt: number
  check?: string
}

interface ClientState {
  /** autocannon's own send step, which the agent calls when it is this client's turn. */
  send: () => void
  /** Reused for every request of this client (one in flight at a time), to spare the garbage collector. */
  slot: InFlight
  inflight?: InFlight
  abandoned?: InFlight
  parked: boolean
  done: boolean
}

/** Longer than any run; setTimeout's limit is 2^31-1 ms. */
const PARKED_TIMEOUT_MS = 1_000_000_000
const BATCH_CAPACITY = 8192

export const now = (): number => performance.timeOrigin + performance.now()

export class LoadAgent {
  private assignment: AgentAssignment | undefined
  private readonly clients = new Map<AutocannonClient, ClientState>()
  private readonly idle: AutocannonClient[] = []
  private readonly waiting: AutocannonClient[] = []
  private compiled: CompiledRequest[] = []
  private weights: number[] = []
  private random: Random = Math.random
  private generators: Array<Record<string, () => string | number>> = []
  private pacer: Pacer | undefined
  private stopAt = Number.POSITIVE_INFINITY
  private limit = Number.POSITIVE_INFINITY
  private measuredSent = 0
  private sent = 0
  private unfinished = 0
  private wakeTimer: NodeJS.Timeout | undefined
  private wakeAt = Number.POSITIVE_INFINITY
  private flushTimer: NodeJS.Timeout | undefined
  private batch = newBatch(0)
  private eluStart = performance.eventLoopUtilization()
  private finished = false

  constructor(
    private readonly sink: AgentSink,
    private readonly flushEveryMs = 250,
  ) {}

  assign(assignment: AgentAssignment): void {
    const { plan, thread, threads } = assignment
    this.assignment = assignment
    this.batch = newBatch(thread)
    this.random = seededRandom(plan.seed * 1009 + thread)
    this.compiled = plan.specs.map((spec) => compileRequest(spec, plan.target))
    this.weights = cumulativeWeights(plan.specs)
    this.generators = plan.specs.map((spec) =>
      Object.fromEntries(
        Object.entries(spec.variables).map(([name, variable]) => [
          name,
          variableSource(variable, { random: this.random, thread, threads }),
        ]),
      ),
    )
    const share = plan.requests === undefined ? undefined : Math.floor(plan.requests / threads) + (thread < plan.requests % threads ? 1 : 0)
    const end = plan.durationMs === undefined ? plan.maxDurationMs : plan.warmupMs + plan.durationMs
    this.stopAt = assignment.startAt + end
    if (plan.model === 'open' && plan.arrival) {
      const arrival = scaleArrival(plan.arrival, 1 / threads)
      const warmupSlots = Math.ceil(arrivalsBy(arrival, plan.warmupMs) - 1e-9)
      this.pacer = new Pacer(arrival, assignment.startAt, share === undefined ? undefined : warmupSlots + share)
    } else if (share !== undefined) {
      this.limit = share
    }
    this.eluStart = performance.eventLoopUtilization()
    this.flushTimer = setInterval(() => this.flush(), this.flushEveryMs)
    const early = this.waiting.splice(0)
    for (const client of early) this.clients.get(client)!.parked = false
    for (const client of early) this.ready(client)
  }

  /** Takes over one autocannon client; called from autocannon's setupClient. */
  attach(client: AutocannonClient): void {
    const original = client._doRequest
    const state: ClientState = { send: () => original.call(client), slot: newSlot(), parked: false, done: false }
    this.clients.set(client, state)
    const destroy = client.destroy
    client._doRequest = () => this.ready(client)
    client.destroy = () => {
      if (!state.done) {
        state.done = true
        if (state.inflight || state.abandoned) this.unfinished++
        this.removeIdle(client)
      }
      destroy.call(client)
      this.checkFinished()
    }
    // one fixed request object per client; the agent sets its bytes before each send
    client.requestIterator.nextRequest = () => client.requestIterator.currentRequest
    client.requestIterator.recordBody = (_request, _status, body) => {
      const inflight = state.inflight
      const expectation = inflight && this.compiled[inflight.spec]?.spec.expect.body
      if (inflight && expectation) inflight.check = checkBody(body, expectation, inflight.values)
    }
    client.on('response', (status, bytes) => {
      const inflight = state.inflight
      state.inflight = undefined
      if (!inflight) return
      const expected = this.compiled[inflight.spec]!.spec.expect.status
      const outcome = (expected ? !expected.includes(status) : status >= 400)
        ? Outcome.UnexpectedStatus
        : inflight.check
          ? Outcome.CheckFailed
          : Outcome.Ok
      if (outcome === Outcome.CheckFailed) this.countCheck(inflight)
      this.record(inflight, now(), status, outcome, bytes)
    })
    // Both events come after autocannon has reconnected and asked for the next request: the
    // request they are about is the abandoned one (if ready() saw it), not the one just sent.
    const lost = (): InFlight | undefined => {
      const inflight = state.abandoned ?? state.inflight
      if (state.abandoned) state.abandoned = undefined
      else state.inflight = undefined
      return inflight
    }
    client.on('connError', (error) => {
      const inflight = lost()
      if (inflight) this.record(inflight, now(), 0, Outcome.Error, 0, error.code ?? error.message)
    })
    client.on('timeout', () => {
      const inflight = lost()
      if (inflight) this.record(inflight, now(), 0, Outcome.Timeout, 0)
    })
  }

  /** Interrupt: send nothing more; in-flight requests still finish. */
  stop(): void {
    this.stopAt = Math.min(this.stopAt, now())
    this.wake()
  }

  private ready(client: AutocannonClient): void {
    const state = this.clients.get(client)
    if (!state || state.done || client.destroyed) return
    if (state.inflight) {
      // autocannon reconnected (server closed the connection, or a timeout) with a request
      // outstanding: it will never be answered. A timeout event follows at once and claims it;
      // otherwise it is an error.
      const lost = state.inflight
      state.abandoned = lost
      state.inflight = undefined
      state.slot = newSlot()
      client.pipelinedRequests.clear()
      queueMicrotask(() => {
        if (state.abandoned !== lost) return
        state.abandoned = undefined
        this.record(lost, now(), 0, Outcome.Error, 0, 'ECONNCLOSED')
      })
    }
    if (state.parked) return
    if (!this.assignment) {
      this.park(client, state, this.waiting)
      return
    }
    const time = now()
    if (time < this.assignment.startAt) {
      this.park(client, state, this.idle)
      this.scheduleWake(this.assignment.startAt)
      return
    }
    if (time >= this.stopAt) return this.finish(client, state)
    if (!this.pacer) {
      if (this.measuredSent >= this.limit) return this.finish(client, state)
      return this.dispatch(client, state, time, time)
    }
    const decision = this.pacer.claim(time)
    if (decision.kind === 'send') return this.dispatch(client, state, decision.intendedAt, time)
    if (decision.kind === 'done') return this.finish(client, state)
    this.park(client, state, this.idle)
    this.scheduleWake(decision.until)
  }

  private dispatch(client: AutocannonClient, state: ClientState, intendedAt: number, sentAt: number): void {
    const assignment = this.assignment!
    const specIndex = this.compiled.length === 1 ? 0 : chooseByWeight(this.weights, this.random())
    const compiled = this.compiled[specIndex]!
    let values: Values = EMPTY
    const generators = this.generators[specIndex]!
    if (!compiled.fixed) {
      const fresh: Record<string, string | number> = {}
      for (const name in generators) fresh[name] = generators[name]!()
      values = fresh
    }
    const bytes = compiled.fixed ?? compiled.build(values)
    const current = client.requestIterator.currentRequest as { requestBuffer?: Buffer } | undefined
    if (current && typeof current === 'object') current.requestBuffer = bytes
    else client.requestIterator.currentRequest = { requestBuffer: bytes }
    const slot = state.slot
    slot.spec = specIndex
    slot.values = values
    slot.intendedAt = intendedAt
    slot.sentAt = sentAt
    slot.check = undefined
    state.inflight = slot
    this.sent++
    if (sentAt - assignment.startAt >= assignment.plan.warmupMs) this.measuredSent++
    state.send()
  }

  private park(client: AutocannonClient, state: ClientState, queue: AutocannonClient[]): void {
    state.parked = true
    queue.push(client)
    // an idle connection must not time out while it waits for its turn
    client.timeoutTicker.reschedule(PARKED_TIMEOUT_MS)
  }

  private scheduleWake(at: number): void {
    if (this.wakeTimer && at >= this.wakeAt) return
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    this.wakeAt = at
    this.wakeTimer = setTimeout(() => this.wake(), Math.max(0, at - now()))
  }

  /** Hands due slots to idle connections (or lets them finish when the run is over). */
  private wake(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    this.wakeTimer = undefined
    this.wakeAt = Number.POSITIVE_INFINITY
    const clients = this.idle.splice(0)
    for (const client of clients) {
      const state = this.clients.get(client)
      if (state) state.parked = false
    }
    for (const client of clients) this.ready(client)
  }

  private finish(client: AutocannonClient, state: ClientState): void {
    if (state.done) return
    this.removeIdle(client)
    state.parked = false
    if (state.inflight) return // it finishes when its answer comes: ready() is called again then
    client.destroy()
  }

  private removeIdle(client: AutocannonClient): void {
    const index = this.idle.indexOf(client)
    if (index !== -1) this.idle.splice(index, 1)
  }

  private checkFinished(): void {
    if (this.finished) return
    for (const state of this.clients.values()) if (!state.done) return
    // autocannon creates its clients in one loop; wait until it is over before concluding
    setImmediate(() => {
      if (this.finished) return
      for (const state of this.clients.values()) if (!state.done) return
      this.finished = true
      if (this.wakeTimer) clearTimeout(this.wakeTimer)
      if (this.flushTimer) clearInterval(this.flushTimer)
      this.flush()
      this.sink.done({
        thread: this.assignment?.thread ?? 0,
        eventLoopUtilization: performance.eventLoopUtilization(this.eluStart).utilization,
        sent: this.sent,
        unfinished: this.unfinished,
      })
    })
  }

  private countCheck(inflight: InFlight): void {
    const key = `${this.compiled[inflight.spec]!.spec.name}: ${inflight.check}`
    this.batch.checkFailures[key] = (this.batch.checkFailures[key] ?? 0) + 1
  }

  private record(inflight: InFlight, completedAt: number, status: number, outcome: number, bytes: number, errorCode?: string): void {
    const assignment = this.assignment
    if (!assignment) return
    const batch = this.batch
    const i = batch.count++
    const start = assignment.plan.model === 'open' ? Math.min(inflight.intendedAt, inflight.sentAt) : inflight.sentAt
    batch.starts[i] = start - assignment.startAt
    batch.sends[i] = inflight.sentAt - assignment.startAt
    batch.latencies[i] = completedAt - start
    batch.statuses[i] = status
    batch.outcomes[i] = outcome
    batch.bytes[i] = bytes
    batch.specs[i] = inflight.spec
    if (errorCode) batch.errorCodes[errorCode] = (batch.errorCodes[errorCode] ?? 0) + 1
    if (batch.count === BATCH_CAPACITY) this.flush()
  }

  private flush(): void {
    const batch = this.batch
    if (batch.count === 0 && Object.keys(batch.errorCodes).length === 0) return
    this.batch = newBatch(batch.thread)
    this.sink.samples(trimBatch(batch))
  }
}

const EMPTY: Values = Object.freeze({})

function newSlot(): InFlight {
  return { spec: 0, values: EMPTY, intendedAt: 0, sentAt: 0, check: undefined }
}

function newBatch(thread: number): SampleBatch {
  return {
    thread,
    count: 0,
    starts: new Float64Array(BATCH_CAPACITY),
    sends: new Float64Array(BATCH_CAPACITY),
    latencies: new Float64Array(BATCH_CAPACITY),
    statuses: new Uint16Array(BATCH_CAPACITY),
    outcomes: new Uint8Array(BATCH_CAPACITY),
    bytes: new Uint32Array(BATCH_CAPACITY),
    specs: new Uint16Array(BATCH_CAPACITY),
    errorCodes: {},
    checkFailures: {},
  }
}

/** Copies of the filled part, so that a worker posts only what it recorded. */
function trimBatch(batch: SampleBatch): SampleBatch {
  const n = batch.count
  return {
    ...batch,
    starts: batch.starts.slice(0, n),
    sends: batch.sends.slice(0, n),
    latencies: batch.latencies.slice(0, n),
    statuses: batch.statuses.slice(0, n),
    outcomes: batch.outcomes.slice(0, n),
    bytes: batch.bytes.slice(0, n),
    specs: batch.specs.slice(0, n),
  }
}
