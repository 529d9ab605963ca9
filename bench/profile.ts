// The overhead of profiling, and what turning V8's inlining off costs and buys.
//
// 1. Throughput of a service under `opsctl profile` (V8's CPU profiler with inlining off, the
//    default; with --keep-inlining; allocation sampling with --heap) against the same service
//    unprofiled, and unprofiled with inlining off alone (what the flag costs without the
//    profiler), under the same closed-model load, the variants interleaved so that machine noise
//    hits them alike.
// 2. Attribution: for each inlining fixture of test/profile, the top functions by self time with
//    V8's attribution (--keep-inlining, what opsctl did before issue #17) and with inlining off.
// Usage: npm run bench -- profile [seconds per run, default 8] [rounds, default 2]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inliningOffFlags } from '../src/profile/attribution.js'
import { profileTarget } from '../src/profile/capture.js'
import { driveLoad, type LoadReport } from '../src/profile/load-driver.js'
import { writePreload } from '../src/profile/preload.js'
import { processCpuMs, startTarget } from '../src/profile/target.js'

const fixture = (name: string) => fileURLToPath(new URL(`../test/profile/fixtures/${name}`, import.meta.url))
const CONNECTIONS = 4

const TARGETS = [
  { name: 'hot-server.mjs', what: 'CPU-bound: one function does all the work' },
  { name: 'steady-server.mjs', what: 'light requests that allocate 50 objects each' },
  { name: 'inlining/called-in-loop.mjs', what: 'a small function called 150,000 times a request: the most inlining can matter' },
  { name: 'inlining/helper-chain.mjs', what: 'handler → parser → field parser, the hot function two calls deep' },
]
type Variant = 'unprofiled' | 'unprofiled-no-inlining' | 'cpu' | 'cpu-keep-inlining' | 'heap'
const VARIANTS: Variant[] = ['unprofiled', 'unprofiled-no-inlining', 'cpu', 'cpu-keep-inlining', 'heap']
const LABELS: Record<Variant, string> = {
  unprofiled: 'unprofiled',
  'unprofiled-no-inlining': 'unprofiled, inlining off (no profiler)',
  cpu: 'opsctl profile (--cpu-prof, inlining off: the default)',
  'cpu-keep-inlining': 'opsctl profile --keep-inlining (--cpu-prof)',
  heap: 'opsctl profile --heap (sampling)',
}

const ATTRIBUTION_FIXTURES = [
  ['called-once.mjs', 'checksum'],
  ['called-in-loop.mjs', 'score'],
  ['closure.mjs', 'scoreRow'],
  ['async-handler.mjs', 'rankCandidates'],
  ['class-method.mjs', 'quote'],
  ['separate-module.mjs', 'digest'],
  ['two-handlers.mjs', 'normalizeVector'],
  ['array-callback.mjs', 'addLineTotal'],
  ['helper-chain.mjs', 'parseField'],
] as const

/** A run's load and the target's CPU time per request during it (what a request cost, whatever share of a core it got). */
interface Measured {
  load: LoadReport
  cpuMsPerRequest?: number
}

async function unprofiled(script: string, durationMs: number, nodeFlags: string[]): Promise<Measured> {
  const preload = writePreload()
  const target = startTarget({ command: ['node', script], nodeFlags: [...nodeFlags, '--require', preload.path] })
  try {
    const listening = await target.waitForListening({ timeoutMs: 30_000 })
    const before = processCpuMs(target.pid)
    const load = await driveLoad({ url: `http://127.0.0.1:${listening.port}/`, durationMs, connections: CONNECTIONS })
    const after = processCpuMs(target.pid)
    return { load, ...(before !== undefined && after !== undefined ? { cpuMsPerRequest: (after - before) / load.requests } : {}) }
  } finally {
    await target.stop()
    preload.remove()
  }
}

async function profiled(script: string, variant: Variant, durationMs: number, outDir: string): Promise<Measured> {
  const run = await profileTarget({
    target: { label: script, command: ['node', script] },
    load: { url: '/' },
    mode: variant === 'heap' ? 'heap' : 'cpu',
    keepInlining: variant === 'cpu-keep-inlining',
    durationMs,
    connections: CONNECTIONS,
    renderer: 'opsctl',
    outDir,
  })
  return { load: run.load!, ...(run.targetCpuMs !== undefined ? { cpuMsPerRequest: run.targetCpuMs / run.load!.requests } : {}) }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function overhead(durationMs: number, rounds: number, scratch: string): Promise<string[]> {
  const rows: string[] = []
  for (const target of TARGETS) {
    const script = fixture(target.name)
    const results = new Map<Variant, Measured[]>(VARIANTS.map((variant) => [variant, []]))
    for (let round = 0; round < rounds; round++) {
      for (const variant of VARIANTS) {
        process.stderr.write(`${target.name}: ${variant}, round ${round + 1} of ${rounds}...\n`)
        const report =
          variant === 'unprofiled' || variant === 'unprofiled-no-inlining'
            ? await unprofiled(script, durationMs, variant === 'unprofiled' ? [] : inliningOffFlags(process.execPath))
            : await profiled(script, variant, durationMs, join(scratch, `${target.name.replace('/', '-')}-${variant}-${round}`))
        results.get(variant)!.push(report)
      }
    }
    const cpuOf = (runs: Measured[]) => median(runs.map((run) => run.cpuMsPerRequest ?? Number.NaN))
    const baseline = median(results.get('unprofiled')!.map((run) => run.load.rps))
    const baselineCpu = cpuOf(results.get('unprofiled')!)
    for (const variant of VARIANTS) {
      const runs = results.get(variant)!
      const loads = runs.map((run) => run.load)
      const rps = median(loads.map((report) => report.rps))
      const cpu = cpuOf(runs)
      const change = (value: number, base: number, sign: 1 | -1) =>
        variant === 'unprofiled'
          ? '—'
          : `${sign * (((value - base) / base) * 100) >= 0 ? '+' : ''}${(sign * ((value - base) / base) * 100).toFixed(1)}%`
      rows.push(
        `| ${target.name} | ${LABELS[variant]} | ${rps.toFixed(1)} | ${change(rps, baseline, -1)} | ${loads.map((report) => report.rps.toFixed(0)).join(', ')} | ${cpu.toFixed(3)} | ${change(cpu, baselineCpu, 1)} | ${runs.map((run) => (run.cpuMsPerRequest ?? Number.NaN).toFixed(3)).join(', ')} |`,
      )
    }
  }
  return rows
}

async function attribution(durationMs: number, scratch: string): Promise<string[]> {
  const rows: string[] = []
  for (const [file, hot] of ATTRIBUTION_FIXTURES) {
    const cells: string[] = []
    for (const keepInlining of [true, false]) {
      process.stderr.write(`attribution: ${file}, ${keepInlining ? 'inlining kept' : 'inlining off'}...\n`)
      const run = await profileTarget({
        target: { label: file, command: ['node', fixture(`inlining/${file}`)] },
        load: { url: '/' },
        durationMs,
        connections: 2,
        keepInlining,
        renderer: 'opsctl',
        outDir: join(scratch, `attribution-${file}-${keepInlining}`),
      })
      const top = run.summary!.topSelf
      const rank = top.findIndex((stat) => stat.name === hot) + 1
      const hotShare = top.find((stat) => stat.name === hot)?.selfShare ?? 0
      cells.push(
        `${rank || '>10'} (${(hotShare * 100).toFixed(1)}%)`,
        top
          .slice(0, 3)
          .map((stat) => `${stat.name} ${(stat.selfShare * 100).toFixed(1)}%`)
          .join(', '),
      )
    }
    rows.push(`| ${file} | ${hot} | ${cells.join(' | ')} |`)
  }
  return rows
}

export default async function run(args: string[]): Promise<string> {
  const durationMs = Number(args[0] ?? 8) * 1000
  const rounds = Number(args[1] ?? 2)
  const scratch = mkdtempSync(join(tmpdir(), 'opsctl-bench-profile-'))
  try {
    const attributionRows = await attribution(Math.min(durationMs, 4000), scratch)
    const overheadRows = await overhead(durationMs, rounds, scratch)
    return [
      `Closed model, ${CONNECTIONS} connections, ${durationMs / 1000}s per run, ${rounds} interleaved rounds; medians of the rounds (each round's rps in the last column).`,
      `Targets: ${TARGETS.map((target) => `${target.name} (${target.what})`).join('; ')}.`,
      'The unprofiled runs have the same preload (it only reports the port); the profiled runs are `opsctl profile` itself.',
      "Throughput depends on the share of the cores the target gets, which other processes on a shared machine change from run to run; the target's own CPU time per request (user + system from /proc, during the load) is what profiling costs it, whatever share it got.",
      `Inlining off is ${inliningOffFlags(process.execPath).join(' ')}.`,
      '',
      '| target | variant | rps | throughput lost | rps of each round | target CPU ms / request | CPU per request | CPU ms / request of each round |',
      '| --- | --- | ---: | ---: | --- | ---: | ---: | --- |',
      ...overheadRows,
      '',
      `Attribution: where the hot function ranks by self time (its share), ${Math.min(durationMs, 4000) / 1000}s at 2 connections, one run each.`,
      '',
      "| fixture | hot function | rank, V8's attribution (--keep-inlining) | top 3 | rank, inlining off (default) | top 3 |",
      '| --- | --- | --- | --- | --- | --- |',
      ...attributionRows,
    ].join('\n')
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}
