/**
 * `opsctl profile leak`: start the target with the preload, warm it up, take a heap snapshot
 * (after a forced GC), drive load, take another, and rank what grew. The snapshots stay on disk
 * for Chrome DevTools. Glue.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { environmentError, formatDuration, type OpsError, type Settings } from '../core/index.js'
import { recordEvent } from '../journal/index.js'
import type { ProfileTarget } from './capture.js'
import { explainFailure } from './failure.js'
import { parseHeapSnapshot } from './heap-snapshot.js'
import { analyzeLeak, DEFAULT_MIN_GROWTH_BYTES, type LeakReport } from './leak.js'
import { driveLoad, type LoadReport } from './load-driver.js'
import { expectedPort, loadUrlFor, type LoadSpec } from './load-target.js'
import { writePreload, type PreloadMessage } from './preload.js'
import { checkTargetCommand, startTarget, type RunningTarget, type TargetExit } from './target.js'
import { profileEvents } from './events.js'

export interface LeakHuntOptions {
  target: ProfileTarget
  load: LoadSpec
  /** Load between the two snapshots (default 20s). */
  durationMs?: number
  /** Load before the first snapshot, so caches, pools and compiled code that fill once are not counted (default 3s). */
  warmupMs?: number
  connections?: number
  rate?: number
  outDir: string
  startTimeoutMs?: number
  minGrowthBytes?: number
  top?: number
  journal?: Settings
  note?(message: string): void
}

export interface LeakRun {
  target: { label: string; command: string[]; pid: number; exit?: TargetExit; stderrTail: string[] }
  url?: string
  listening?: { port: number; address: string }
  load?: LoadReport
  snapshots: { before?: string; after?: string }
  /** Heap in use after the forced GC, as the target saw it. */
  heapUsed: { before?: number; after?: number }
  report?: LeakReport
  files: { dir: string; report?: string }
  journal?: { recorded: boolean; id?: string; error?: string }
}

export async function findLeaks(options: LeakHuntOptions): Promise<LeakRun> {
  const note = options.note ?? (() => {})
  const port = expectedPort(options.load)
  checkTargetCommand(options.target.command)
  const dir = resolve(options.outDir)
  mkdirSync(dir, { recursive: true })
  const preload = writePreload()
  const run: LeakRun = {
    target: { label: options.target.label, command: options.target.command, pid: -1, stderrTail: [] },
    snapshots: {},
    heapUsed: {},
    files: { dir },
  }
  let target: RunningTarget | undefined
  let failure: unknown
  try {
    target = startTarget({
      command: options.target.command,
      nodeFlags: ['--require', preload.path],
      ...(options.target.env ? { env: options.target.env } : {}),
      ...(options.target.cwd ? { cwd: options.target.cwd } : {}),
    })
    run.target.pid = target.pid
    note(`Started ${options.target.label} (pid ${target.pid}); waiting for it to listen...`)
    const listening = await target.waitForListening({
      ...(port !== undefined ? { port } : {}),
      timeoutMs: options.startTimeoutMs ?? 30_000,
    })
    run.listening = { port: listening.port, address: listening.address }
    run.url = loadUrlFor(options.load, listening)
    const targetGone = new AbortController()
    void target.exited.then(() => targetGone.abort())
    const loadOptions = {
      url: run.url,
      ...('scenarioFile' in options.load ? { scenarioFile: options.load.scenarioFile } : {}),
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
      ...(options.rate !== undefined ? { rate: options.rate } : {}),
      signal: targetGone.signal,
    }
    const warmupMs = options.warmupMs ?? 3000
    if (warmupMs > 0) {
      note(`Warming up for ${formatDuration(warmupMs)}...`)
      await driveLoad({ ...loadOptions, durationMs: warmupMs })
    }
    note('Heap snapshot 1 (after a forced GC)...')
    const before = await snapshot(target, join(dir, 'before.heapsnapshot'))
    run.snapshots.before = before.path
    run.heapUsed.before = before.heapUsed
    const durationMs = options.durationMs ?? 20_000
    note(`Load for ${formatDuration(durationMs)} at ${run.url}...`)
    run.load = await driveLoad({ ...loadOptions, durationMs, note })
    note('Heap snapshot 2 (after a forced GC)...')
    const after = await snapshot(target, join(dir, 'after.heapsnapshot'))
    run.snapshots.after = after.path
    run.heapUsed.after = after.heapUsed
  } catch (error) {
    failure = error
  } finally {
    if (target) {
      run.target.exit = await target.stop()
      run.target.stderrTail = target.stderrTail()
    }
    preload.remove()
  }

  if (failure === undefined && run.snapshots.before && run.snapshots.after) {
    try {
      note('Comparing the snapshots...')
      const beforeGraph = parseHeapSnapshot(readFileSync(run.snapshots.before, 'utf8'), run.snapshots.before)
      const afterGraph = parseHeapSnapshot(readFileSync(run.snapshots.after, 'utf8'), run.snapshots.after)
      run.report = analyzeLeak(beforeGraph, afterGraph, {
        minGrowthBytes: options.minGrowthBytes ?? DEFAULT_MIN_GROWTH_BYTES,
        top: options.top ?? 10,
      })
      run.files.report = join(dir, 'leak.json')
      writeFileSync(run.files.report, `${JSON.stringify(run.report, null, 2)}\n`)
    } catch (error) {
      failure = error
    }
  }
  const exit = run.target.exit
  const crashed = exit !== undefined && !exit.stoppedByOpsctl
  const captured = [run.snapshots.before, run.snapshots.after, run.files.report].filter((file): file is string => file !== undefined)
  const error =
    failure !== undefined || crashed
      ? explainFailure(
          { label: run.target.label, exit, stderrTail: run.target.stderrTail, listening: run.listening !== undefined, captured },
          failure,
        )
      : undefined
  if (options.journal) await recordLeakRun(options.journal, run, error, note)
  if (error) throw error
  return run
}

async function snapshot(target: RunningTarget, path: string): Promise<{ path: string; heapUsed?: number }> {
  const reply = (await target.request({ type: 'heap-snapshot', path }, 180_000)) as Extract<PreloadMessage, { type: 'heap-snapshot' }>
  if (reply.error || !reply.path)
    throw environmentError(
      `The target could not write a heap snapshot: ${reply.error ?? 'no file'}`,
      'Check the free disk space and that the target can write to the output directory.',
    )
  return { path: reply.path, ...(reply.heapUsed !== undefined ? { heapUsed: reply.heapUsed } : {}) }
}

async function recordLeakRun(
  settings: Settings,
  run: LeakRun,
  error: OpsError | undefined,
  note: (message: string) => void,
): Promise<void> {
  const first = run.report?.suspects[0]
  try {
    const event = await recordEvent(settings, {
      kind: profileEvents.run.kind,
      subject: run.target.label,
      data: {
        target: run.target.label,
        mode: 'leak',
        outcome: error ? 'failed' : 'ok',
        ...(run.load ? { durationMs: Math.round(run.load.measuredMs), requests: run.load.requests } : {}),
        ...(first ? { top: first.summary } : {}),
        ...(run.report
          ? {
              suspects: run.report.suspects.slice(0, 5).map((suspect) => suspect.summary),
              heapBefore: run.report.heapBefore,
              heapAfter: run.report.heapAfter,
            }
          : {}),
        files: { dir: run.files.dir, ...run.snapshots, ...(run.files.report ? { report: run.files.report } : {}) },
        ...(error ? { error: error.message.split('\n')[0]!.slice(0, 300) } : {}),
      },
    })
    run.journal = { recorded: true, id: event.id }
  } catch (failure) {
    run.journal = { recorded: false, error: (failure as Error).message }
    note(`Warning: the profile.run event could not be written to the journal: ${(failure as Error).message}`)
  }
}
