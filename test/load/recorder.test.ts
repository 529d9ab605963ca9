import { progressBar } from '../../src/core/index.js'
import { loadProgressUpdate } from '../../src/load/render.js'
import { describe, expect, it } from 'vitest'
import { renderLoadResult, type Threshold } from '../../src/load/index.js'
import { type LoadPlan } from '../../src/load/plan.js'
import { Outcome, type SampleBatch } from '../../src/load/agent.js'
import { Recorder } from '../../src/load/recorder.js'
import { assembleResult } from '../../src/load/assemble.js'
import { constantArrival } from '../../src/load/arrival.js'
import { tryParseThreshold } from '../../src/load/thresholds.js'
import { palette, stripAnsi } from '../../src/core/index.js'

function plan(overrides: Partial<LoadPlan> = {}): LoadPlan {
  return {
    name: 'GET /',
    target: { url: 'http://127.0.0.1:3000', protocol: 'http:', host: '127.0.0.1:3000', address: '127.0.0.1', port: 3000, basePath: '' },
    model: 'open',
    connections: 10,
    arrival: constantArrival(100, 3500),
    durationMs: 3000,
    maxDurationMs: 600_000,
    warmupMs: 500,
    timeoutMs: 10_000,
    workers: 0,
    seed: 1,
    specs: [{ name: 'GET /', weight: 1, method: 'GET', path: { parts: ['/'], variables: [] }, headers: [], variables: {}, expect: {} }],
    thresholds: [],
    ...overrides,
  }
}

/** Requests every 10 ms from 0 to 3.5 s, 20 ms each (40 ms in the third second), every 10th a 500. */
function batch(): SampleBatch {
  const n = 350
  const starts = Float64Array.from({ length: n }, (_, i) => i * 10)
  return {
    thread: 0,
    count: n,
    starts,
    sends: starts.slice(),
    latencies: Float64Array.from(starts, (start) => (start >= 2500 && start < 3500 ? 40 : 20)),
    statuses: Uint16Array.from({ length: n }, (_, i) => (i % 10 === 9 ? 500 : 200)),
    outcomes: Uint8Array.from({ length: n }, (_, i) => (i % 10 === 9 ? Outcome.UnexpectedStatus : Outcome.Ok)),
    bytes: new Uint32Array(n).fill(100),
    specs: new Uint16Array(n),
    errorCodes: {},
    checkFailures: {},
  }
}

const process = { cpuCores: 0.1, eventLoopUtilization: 0.2, cores: 2 }
const threshold = (text: string): Threshold => (tryParseThreshold(text) as { ok: true; threshold: Threshold }).threshold

describe('recorder', () => {
  it('leaves the warm-up out and keeps a per-second series with the target rate', () => {
    const recorder = new Recorder(plan())
    recorder.ingest(batch())
    const stats = recorder.finish({
      startedAt: new Date(0),
      finishedAt: new Date(4000),
      reports: [{ thread: 0, eventLoopUtilization: 0.2, sent: 350, unfinished: 0 }],
      process,
      interrupted: false,
    })
    expect(stats.requests).toMatchObject({ total: 300, warmup: 50, failed: 30, unexpectedStatus: 30, dropped: 0 })
    expect(stats.statusCodes).toEqual({ 200: 270, 500: 30 })
    expect(stats.rps).toBe(100)
    expect(stats.rate).toEqual({ target: 100, achieved: 100, shortfall: 0 })
    expect(stats.series.map((second) => [second.second, second.requests, Math.round(second.p50!), second.targetRps])).toEqual([
      [0, 100, 20, 100],
      [1, 100, 20, 100],
      [2, 100, 40, 100],
    ])
    // HDR keeps 3 significant digits: 20 ms is recorded within 16 µs
    expect(stats.latency.p50).toBeCloseTo(20, 1)
    expect(stats.latency.max).toBeCloseTo(40, 1)
    expect(stats.bytesReceived).toBe(30_000)
    expect(stats.generator.saturated).toBe(false)
  })

  it('counts what the schedule asked for and never sent as dropped', () => {
    const recorder = new Recorder(plan({ arrival: constantArrival(200, 3500) }))
    recorder.ingest(batch())
    const stats = recorder.finish({ startedAt: new Date(0), finishedAt: new Date(4000), reports: [], process, interrupted: false })
    expect(stats.rate).toMatchObject({ target: 200, achieved: 100, shortfall: 0.5 })
    expect(stats.requests.dropped).toBe(300)
  })

  it('renders a table with the percentiles, statuses, sparklines and thresholds', () => {
    const recorder = new Recorder(plan({ thresholds: [threshold('p99<30ms'), threshold('error_rate<20%')] }))
    recorder.ingest(batch())
    const stats = recorder.finish({ startedAt: new Date(0), finishedAt: new Date(4000), reports: [], process, interrupted: false })
    const result = assembleResult(plan({ thresholds: [threshold('p99<30ms'), threshold('error_rate<20%')] }), [stats])
    const text = stripAnsi(renderLoadResult(result, palette(false)))
    expect(text).toContain('open model, 100 rps, up to 10 connections, 3.00s, warm-up 500ms excluded')
    expect(text).toMatch(/requests\s+300 in 3\.00s: 100\.0 rps \(target 100\.0 rps, achieved 100\.0%\)/)
    expect(text).toMatch(/latency\s+p50 20ms .* p99 40ms .*\(from the intended send time\)/)
    expect(text).toMatch(/status\s+200 × 270\s+500 × 30/)
    expect(text).toMatch(/p99\/s\s+[▁█]{3}/)
    expect(text).toMatch(/✗ p99<30ms\s+p99 = 40.0\d?ms \(limit < 30ms\)/)
    expect(text).toMatch(/✓ error_rate<20%\s+error_rate = 10% \(limit < 20%\)/)
    expect(result.summary).toMatchObject({ outcome: 'failed', thresholds: { passed: 1, failed: 1 }, requests: 300 })
  })
})

describe('the progress of a run', () => {
  const live = { elapsedMs: 2000, rps: 98, p99: 23.5, requests: 200, failed: 3 }

  it('is a task with the rate, p99 and failures as its detail, elapsed seconds of the total', () => {
    expect(loadProgressUpdate(live, plan(), 1)).toMatchObject({ task: 'load', done: 2, detail: '98 rps · p99 24ms · 3 failed' })
    expect(loadProgressUpdate(live, plan(), 2).task).toBe('load #2')
  })

  it('is drawn as a bar on a terminal and not at all in CI, with NO_COLOR or into a pipe', () => {
    const cases = [
      [true, {}, true],
      [true, { CI: 'true' }, false],
      [true, { NO_COLOR: '1' }, false],
      [false, {}, false],
    ] as const
    for (const [isTTY, env, drawn] of cases) {
      const written: string[] = []
      const listener = progressBar({ isTTY, write: (chunk: string) => written.push(chunk) > 0 }, env)
      listener(loadProgressUpdate(live, plan(), 1))
      listener({ task: 'load', done: 0, total: 0, finished: true })
      expect(written.join('').includes('98 rps · p99 24ms · 3 failed')).toBe(drawn)
      if (!drawn) expect(written).toEqual([])
    }
  })
})
