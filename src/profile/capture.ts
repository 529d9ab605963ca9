/**
 * `opsctl profile`: start the target with V8's CPU profiler (or allocation sampling for --heap),
 * wait for it to listen, drive load at it, stop it so the profile is written, and turn the
 * profile into a .cpuprofile, a folded-stack file, a flame graph and a summary. Whatever was
 * captured is written even when the target fails; the failure is then an error (exit 3) that
 * says where the files are. Glue.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { formatDuration, type Settings } from '../core/index.js'
import { loadScenarioFile } from '../load/index.js'
import { HEAP_ATTRIBUTION, planAttribution, type Attribution } from './attribution.js'
import { cpuProfileStacks, parseCpuProfile, trimCpuProfile, type TimeWindow } from './cpuprofile.js'
import { renderFlameGraphHtml } from './flamegraph-html.js'
import { formatFolded } from './folded.js'
import { heapProfileStacks, parseHeapProfile } from './heap-profile.js'
import { recordProfileRun } from './journal.js'
import { driveLoad, type LoadReport } from './load-driver.js'
import { expectedPort, loadUrlFor, type LoadSpec } from './load-target.js'
import { HEAP_OUT_ENV, SOURCE_MAPS_ENV, writePreload } from './preload.js'
import { mapCpuProfile, mapHeapProfile, parseSourceMapTable, type SourceMapTable } from './source-maps.js'
import { renderWith0x } from './render-0x.js'
import { summarizeProfile, type ProfileSummary } from './summary.js'
import { explainFailure } from './failure.js'
import { checkTargetCommand, nodeBinaryOf, processCpuMs, startTarget, type RunningTarget, type TargetExit } from './target.js'

export type ProfileMode = 'cpu' | 'heap'

export interface ProfileTarget {
  /** `node [flags] script [args]`. */
  command: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** How reports and the journal name it: `reference`, `server.js`. */
  label: string
}

export interface ProfileOptions {
  target: ProfileTarget
  load: LoadSpec
  mode?: ProfileMode
  /** Load duration (default 20s; a scenario keeps its own unless given). */
  durationMs?: number
  connections?: number
  rate?: number
  outDir: string
  top?: number
  startTimeoutMs?: number
  /** Who draws flamegraph.html for CPU profiles: 0x (default) or opsctl's own renderer. */
  renderer?: '0x' | 'opsctl'
  /**
   * Let V8 inline as it would in production (then an inlined function's samples count in its
   * caller). By default a CPU profile runs the target with inlining off, see attribution.ts.
   */
  keepInlining?: boolean
  /** Record a profile.run event in this configuration's journal. */
  journal?: Settings
  note?(message: string): void
  /** Stops the load early (Ctrl-C): the target is stopped and what ran is reported. */
  signal?: AbortSignal
}

export interface ProfileFiles {
  dir: string
  flamegraph?: string
  folded?: string
  cpuprofile?: string
  heapprofile?: string
}

export interface ProfileRun {
  mode: ProfileMode
  target: { label: string; command: string[]; pid: number; exit?: TargetExit; stderrTail: string[] }
  /** Where the load went. */
  url?: string
  listening?: { port: number; address: string }
  load?: LoadReport
  /**
   * CPU time the target used during the load run (Linux), in ms: against the load's duration, how
   * much of a core it had; per request, what a request cost it (bench/profile.ts compares it).
   */
  targetCpuMs?: number
  /** Ctrl-C stopped the run early; what was measured is reported. */
  interrupted?: boolean
  summary?: ProfileSummary
  files: ProfileFiles
  /** How samples were attributed to functions (and what it changed in the target). */
  attribution: Attribution
  flamegraph?: { renderer: '0x' | 'opsctl'; note?: string }
  journal?: { recorded: boolean; id?: string; error?: string }
}

export const DEFAULT_DURATION_MS = 20_000
export const DEFAULT_START_TIMEOUT_MS = 30_000

const nowUs = () => Number(process.hrtime.bigint() / 1000n)

export async function profileTarget(options: ProfileOptions): Promise<ProfileRun> {
  const mode = options.mode ?? 'cpu'
  const note = options.note ?? (() => {})
  const load = withScenarioTarget(options.load)
  // everything that can be bad input is checked before anything starts
  const port = expectedPort(load)
  checkTargetCommand(options.target.command)
  const outDir = resolve(options.outDir)
  mkdirSync(outDir, { recursive: true })
  const rawDir = mkdtempSync(join(outDir, '.raw-'))
  const heapRaw = join(rawDir, 'heap.heapprofile')
  const sourceMapsRaw = join(rawDir, 'source-maps.json')
  const attribution =
    mode === 'cpu'
      ? planAttribution(options.target.command, nodeBinaryOf(options.target.command), options.keepInlining ?? false)
      : HEAP_ATTRIBUTION
  const preload = writePreload()
  const run: ProfileRun = {
    mode,
    target: { label: options.target.label, command: options.target.command, pid: -1, stderrTail: [] },
    files: { dir: outDir },
    attribution,
  }
  const stopSignal = options.signal ?? new AbortController().signal

  let target: RunningTarget | undefined
  let window: TimeWindow | undefined
  let failure: unknown
  try {
    target = startTarget({
      command: options.target.command,
      nodeFlags: [
        ...attribution.nodeFlags,
        '--require',
        preload.path,
        ...(mode === 'cpu' ? ['--cpu-prof', `--cpu-prof-dir=${rawDir}`] : []),
      ],
      env: { ...options.target.env, [SOURCE_MAPS_ENV]: sourceMapsRaw, ...(mode === 'heap' ? { [HEAP_OUT_ENV]: heapRaw } : {}) },
      ...(options.target.cwd ? { cwd: options.target.cwd } : {}),
    })
    run.target.pid = target.pid
    note(`Started ${options.target.label} (pid ${target.pid}); waiting for it to listen${port !== undefined ? ` on port ${port}` : ''}...`)
    const listening = await untilAborted(
      target.waitForListening({ ...(port !== undefined ? { port } : {}), timeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS }),
      stopSignal,
    )
    if (listening) {
      run.listening = { port: listening.port, address: listening.address }
      run.url = loadUrlFor(load, listening)
      const durationMs = options.durationMs ?? ('url' in load ? DEFAULT_DURATION_MS : undefined)
      note(
        `Listening on port ${listening.port}; ${mode === 'heap' ? 'sampling allocations' : 'profiling'} under load at ${run.url}${durationMs ? ` for ${formatDuration(durationMs)}` : ''}...`,
      )
      if (mode === 'heap') await target.request({ type: 'heap-restart' }, 10_000)
      const targetGone = new AbortController()
      void target.exited.then(() => targetGone.abort())
      const fromUs = nowUs()
      const cpuBefore = processCpuMs(target.pid)
      run.load = await driveLoad({
        url: run.url,
        ...('scenarioFile' in load ? { scenarioFile: load.scenarioFile } : {}),
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(options.connections !== undefined ? { connections: options.connections } : {}),
        ...(options.rate !== undefined ? { rate: options.rate } : {}),
        signal: AbortSignal.any([stopSignal, targetGone.signal]),
        note,
      })
      window = { fromUs, toUs: nowUs() }
      const cpuAfter = processCpuMs(target.pid)
      if (cpuBefore !== undefined && cpuAfter !== undefined) run.targetCpuMs = cpuAfter - cpuBefore
      if (mode === 'heap' && !target.exit) await target.request({ type: 'heap-write' }, 60_000)
    }
    if (stopSignal.aborted) run.interrupted = true
  } catch (error) {
    failure = error
  } finally {
    if (target) {
      run.target.exit = await target.stop()
      run.target.stderrTail = target.stderrTail()
    }
    preload.remove()
  }

  try {
    const sourceMaps = parseSourceMapTable(existsSync(sourceMapsRaw) ? readFileSync(sourceMapsRaw, 'utf8') : undefined)
    if (mode === 'cpu') await collectCpuProfile(run, { rawDir, window, sourceMaps, options, note })
    else collectHeapProfile(run, { heapRaw, sourceMaps, options })
  } catch (error) {
    failure ??= error
  } finally {
    rmSync(rawDir, { recursive: true, force: true })
  }

  const exit = run.target.exit
  const crashed = exit !== undefined && !exit.stoppedByOpsctl && !run.interrupted
  const error =
    failure !== undefined || crashed
      ? explainFailure(
          {
            label: run.target.label,
            exit,
            stderrTail: run.target.stderrTail,
            listening: run.listening !== undefined,
            captured: capturedFiles(run),
          },
          failure,
        )
      : undefined
  if (options.journal) await recordProfileRun(options.journal, run, error, note)
  if (error) throw error
  return run
}

function withScenarioTarget(load: LoadSpec): LoadSpec {
  if ('url' in load || load.scenarioTarget !== undefined) return load
  const target = loadScenarioFile(load.scenarioFile).target
  return target ? { ...load, scenarioTarget: target } : load
}

/** Resolves with the promise's value, or undefined once the signal fires first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise((resolvePromise, reject) => {
    const onAbort = () => resolvePromise(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolvePromise(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** The main thread's profile of the target (worker threads write their own, with their thread id). */
function findCpuProfile(dir: string, pid: number): string | undefined {
  const files = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'))
  const main = files.find((file) => new RegExp(`\\.${pid}\\.0\\.\\d+\\.cpuprofile$`).test(file))
  const chosen = main ?? files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0]
  return chosen ? join(dir, chosen) : undefined
}

async function collectCpuProfile(
  run: ProfileRun,
  context: {
    rawDir: string
    window: TimeWindow | undefined
    sourceMaps: SourceMapTable
    options: ProfileOptions
    note(message: string): void
  },
): Promise<void> {
  const { options, note } = context
  const raw = findCpuProfile(context.rawDir, run.target.pid)
  if (!raw) return
  const full = mapCpuProfile(parseCpuProfile(readFileSync(raw, 'utf8'), raw), context.sourceMaps)
  let profile = context.window ? trimCpuProfile(full, context.window) : full
  if (context.window && (profile.samples?.length ?? 0) === 0) {
    note('The profile has no samples from the load run; keeping all of it.')
    profile = full
  }
  const dir = run.files.dir
  run.files.cpuprofile = join(dir, 'profile.cpuprofile')
  writeFileSync(run.files.cpuprofile, JSON.stringify(profile))
  const stacks = cpuProfileStacks(profile, { baseDir: options.target.cwd ?? process.cwd() })
  run.files.folded = join(dir, 'profile.folded')
  writeFileSync(run.files.folded, formatFolded(stacks))
  run.summary = summarizeProfile(stacks, options.top ?? 10)

  const flamegraph = join(dir, 'flamegraph.html')
  const title = `opsctl profile: ${options.target.label}`
  if ((options.renderer ?? '0x') === '0x') {
    note('Rendering the flame graph with 0x...')
    const rendered = await renderWith0x(run.files.cpuprofile, {
      name: 'flamegraph',
      title: `${title} (${run.attribution.method === 'no-inlining' ? 'inlining off: every function has its own frame' : "V8's attribution: inlined functions counted in their callers"})`,
    })
    if (rendered.ok) {
      run.files.flamegraph = flamegraph
      run.flamegraph = { renderer: '0x' }
      return
    }
    note(`${rendered.reason ?? '0x could not render'}; writing opsctl's own flame graph instead.`)
    run.flamegraph = { renderer: 'opsctl', note: rendered.reason ?? '0x could not render' }
  } else run.flamegraph = { renderer: 'opsctl' }
  const meta = [run.url ? `Under load at ${run.url}.` : undefined, `Attribution: ${run.attribution.description}`].filter(Boolean).join('\n')
  writeFileSync(flamegraph, renderFlameGraphHtml(stacks, { title, meta }))
  run.files.flamegraph = flamegraph
}

function collectHeapProfile(run: ProfileRun, context: { heapRaw: string; sourceMaps: SourceMapTable; options: ProfileOptions }): void {
  if (!existsSync(context.heapRaw)) return
  const profile = mapHeapProfile(parseHeapProfile(readFileSync(context.heapRaw, 'utf8'), context.heapRaw), context.sourceMaps)
  const dir = run.files.dir
  run.files.heapprofile = join(dir, 'profile.heapprofile')
  writeFileSync(run.files.heapprofile, JSON.stringify(profile))
  const stacks = heapProfileStacks(profile, { baseDir: context.options.target.cwd ?? process.cwd() })
  run.files.folded = join(dir, 'profile.folded')
  writeFileSync(run.files.folded, formatFolded(stacks))
  run.summary = summarizeProfile(stacks, context.options.top ?? 10)
  run.files.flamegraph = join(dir, 'flamegraph.html')
  writeFileSync(
    run.files.flamegraph,
    renderFlameGraphHtml(stacks, {
      title: `opsctl profile --heap: ${context.options.target.label}`,
      meta: `Bytes allocated per call stack (sampled), collected or not.\nAttribution: ${run.attribution.description}`,
    }),
  )
  run.flamegraph = { renderer: 'opsctl' }
}

function capturedFiles(run: ProfileRun): string[] {
  return [run.files.cpuprofile, run.files.heapprofile, run.files.folded, run.files.flamegraph].filter(
    (file): file is string => file !== undefined,
  )
}
