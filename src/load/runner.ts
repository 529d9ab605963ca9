/**
 * The adapter to autocannon: one run of a plan. autocannon drives the connections (in the main
 * thread, or in its worker threads); the agents pace and record; the recorder turns samples into
 * statistics; the runner also measures the generator itself (event-loop utilization and CPU), so
 * that a run where the tool was the bottleneck can be called invalid.
 */
import { createHash, randomUUID } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { OpsError, ExitCode } from '../core/index.js'
import { LoadAgent, now, type AgentReport, type AutocannonClient } from './agent.js'
import type { LoadPlan } from './plan.js'
import { Recorder, type LiveStats } from './recorder.js'
import type { RunStats } from './result.js'
import { controlChannelName, dataChannelName, type ControlMessage, type DataMessage } from './worker-entry.js'

export interface RunOnceOptions {
  /** About once a second, for a progress line. */
  onProgress?(live: LiveStats): void
  /** Diagnostics (stderr). */
  note?(message: string): void
  /** Aborting stops sending; in-flight requests finish and the run's numbers are returned. */
  signal?: AbortSignal
}

/** Grace after the last send for the answers still on their way. */
const SAFETY_MARGIN_MS = 5_000

export async function runOnce(plan: LoadPlan, options: RunOnceOptions = {}): Promise<RunStats> {
  const cores = availableParallelism()
  let workers = plan.workers
  const shim = workers > 0 ? workerSetupModule() : undefined
  if (workers > 0 && !shim) {
    options.note?.('Worker threads need Node 20.19 or later (require of ES modules); running in the main thread instead.')
    workers = 0
  }
  const recorder = new Recorder(workers === plan.workers ? plan : { ...plan, workers }, options.onProgress ? now : undefined)
  const reports: AgentReport[] = []
  const threads = Math.max(1, workers)
  const endMs = plan.durationMs !== undefined ? plan.warmupMs + plan.durationMs : plan.maxDurationMs
  const runId = randomUUID()
  const startedAt = new Date()
  const cpuStart = process.cpuUsage()
  const eluStart = performance.eventLoopUtilization()
  const wallStart = now()
  let startAt = wallStart
  let interrupted = false
  let stop: () => void = () => {}
  const closers: Array<() => void> = []

  const hostname = new URL(plan.target.url).hostname.replace(/^\[|\]$/g, '')
  const address = isIP(plan.target.address) === 6 ? `[${plan.target.address}]` : plan.target.address
  const opts: autocannon.Options & { initialContext?: object } = {
    url: `${plan.target.protocol}//${address}:${plan.target.port}`,
    connections: plan.connections,
    pipelining: 1,
    timeout: Math.max(1, plan.timeoutMs / 1000),
    duration: (endMs + plan.timeoutMs + SAFETY_MARGIN_MS) / 1000,
    // autocannon notices that every client is done on its next sample tick: keep that short
    sampleInt: 100,
    ...(isIP(hostname) ? {} : { servername: hostname }),
  }

  if (workers > 0) {
    const control = new BroadcastChannel(controlChannelName(runId))
    closers.push(() => control.close())
    const tokens: string[] = []
    control.onmessage = (event) => {
      const message = (event as unknown as { data: ControlMessage }).data
      if (message.type !== 'hello' || tokens.includes(message.token)) return
      tokens.push(message.token)
      const data = new BroadcastChannel(dataChannelName(runId, message.token))
      closers.push(() => data.close())
      data.onmessage = (dataEvent) => {
        const payload = (dataEvent as unknown as { data: DataMessage }).data
        if (payload.type === 'samples') recorder.ingest(payload.batch)
        else reports.push(payload.report)
      }
      if (tokens.length === workers) {
        startAt = now() + 50
        tokens.forEach((token, thread) =>
          control.postMessage({
            type: 'assign',
            token,
            assignment: { thread, threads: workers, startAt, plan: { ...plan, workers } },
          } satisfies ControlMessage),
        )
      }
    }
    Object.assign(opts, { workers, setupClient: shim, initialContext: { opsctl: { runId } } })
    stop = () => control.postMessage({ type: 'stop' } satisfies ControlMessage)
  } else {
    const agent = new LoadAgent({ samples: (batch) => recorder.ingest(batch), done: (report) => reports.push(report) }, 100)
    startAt = now()
    agent.assign({ thread: 0, threads: 1, startAt, plan })
    opts.setupClient = (client) => agent.attach(client as unknown as AutocannonClient)
    stop = () => agent.stop()
  }

  const onAbort = () => {
    interrupted = true
    stop()
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  const onProgress = options.onProgress
  const progress = onProgress ? setInterval(() => onProgress(recorder.live(now() - startAt)), 1000) : undefined
  try {
    await autocannon(opts)
    await until(() => reports.length >= threads, 5_000)
    if (reports.length < threads)
      options.note?.(`${threads - reports.length} of ${threads} load threads did not report; their last samples are missing.`)
  } catch (error) {
    throw new OpsError(`The load generator failed: ${(error as Error).message}`, {
      exit: ExitCode.Environment,
      cause: error,
      hint: 'Re-run with --debug for details.',
    })
  } finally {
    clearInterval(progress)
    options.signal?.removeEventListener('abort', onAbort)
    for (const close of closers) close()
  }

  const wallMs = now() - wallStart
  const cpu = process.cpuUsage(cpuStart)
  return recorder.finish({
    startedAt,
    finishedAt: new Date(),
    reports,
    process: {
      cpuCores: (cpu.user + cpu.system) / 1000 / Math.max(1, wallMs),
      eventLoopUtilization: performance.eventLoopUtilization(eluStart).utilization,
      cores,
    },
    interrupted,
  })
}

function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs
    const check = () => (condition() || Date.now() > deadline ? resolve() : setTimeout(check, 10))
    check()
  })
}

/**
 * autocannon's worker threads require() setupClient by path and call its export. The shim
 * (written once to the temp directory) loads worker-entry: from the compiled .js through
 * require(esm), or from the TypeScript sources through tsx's CommonJS hook when opsctl runs
 * from sources (tests, bin/dev.js). undefined when neither is possible.
 */
function workerSetupModule(): string | undefined {
  const here = fileURLToPath(import.meta.url)
  const fromSources = here.endsWith('.ts')
  const entry = join(dirname(here), fromSources ? 'worker-entry.ts' : 'worker-entry.js')
  let source: string
  if (fromSources) {
    let tsx: string
    try {
      tsx = createRequire(import.meta.url).resolve('tsx/cjs/api')
    } catch {
      return undefined
    }
    source = `require(${JSON.stringify(tsx)}).register()\nmodule.exports = require(${JSON.stringify(entry)}).setupClient\n`
  } else {
    if (!(process.features as { require_module?: boolean }).require_module) return undefined
    source = `module.exports = require(${JSON.stringify(entry)}).setupClient\n`
  }
  const file = join(tmpdir(), `opsctl-load-worker-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cjs`)
  if (!existsSync(file))
    writeFileSync(file, `// Written by opsctl load: autocannon worker threads load the load agent through this file.\n${source}`)
  return file
}
