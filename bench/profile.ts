// The overhead of profiling: throughput of a service under `opsctl profile` (V8's CPU profiler,
// or allocation sampling with --heap) against the same service unprofiled, under the same closed-
// model load, in one run with the variants interleaved so that machine noise hits them alike.
// Usage: npm run bench -- profile [seconds per run, default 8] [rounds, default 2]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { driveLoad, profileTarget, startTarget, writePreload, type LoadReport } from '../src/profile/index.js'

const fixture = (name: string) => fileURLToPath(new URL(`../test/profile/fixtures/${name}`, import.meta.url))
const CONNECTIONS = 4

const TARGETS = [
  { name: 'hot-server.mjs', what: 'CPU-bound: one function does all the work' },
  { name: 'steady-server.mjs', what: 'light requests that allocate 50 objects each' },
]
type Variant = 'unprofiled' | 'cpu' | 'heap'
const VARIANTS: Variant[] = ['unprofiled', 'cpu', 'heap']

async function unprofiled(script: string, durationMs: number): Promise<LoadReport> {
  const preload = writePreload()
  const target = startTarget({ command: ['node', script], nodeFlags: ['--require', preload.path] })
  try {
    const listening = await target.waitForListening({ timeoutMs: 30_000 })
    return await driveLoad({ url: `http://127.0.0.1:${listening.port}/`, durationMs, connections: CONNECTIONS })
  } finally {
    await target.stop()
    preload.remove()
  }
}

async function profiled(script: string, mode: 'cpu' | 'heap', durationMs: number, outDir: string): Promise<LoadReport> {
  const run = await profileTarget({
    target: { label: script, command: ['node', script] },
    load: { url: '/' },
    mode,
    durationMs,
    connections: CONNECTIONS,
    renderer: 'opsctl',
    outDir,
  })
  return run.load!
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export default async function run(args: string[]): Promise<string> {
  const durationMs = Number(args[0] ?? 8) * 1000
  const rounds = Number(args[1] ?? 2)
  const scratch = mkdtempSync(join(tmpdir(), 'opsctl-bench-profile-'))
  const rows: string[] = []
  try {
    for (const target of TARGETS) {
      const script = fixture(target.name)
      const results = new Map<Variant, LoadReport[]>(VARIANTS.map((variant) => [variant, []]))
      for (let round = 0; round < rounds; round++) {
        for (const variant of VARIANTS) {
          process.stderr.write(`${target.name}: ${variant}, round ${round + 1} of ${rounds}...\n`)
          const report =
            variant === 'unprofiled' ? await unprofiled(script, durationMs) : await profiled(script, variant, durationMs, join(scratch, `${target.name}-${variant}-${round}`))
          results.get(variant)!.push(report)
        }
      }
      const baseline = median(results.get('unprofiled')!.map((report) => report.rps))
      for (const variant of VARIANTS) {
        const reports = results.get(variant)!
        const rps = median(reports.map((report) => report.rps))
        const overhead = variant === 'unprofiled' ? '—' : `${(((baseline - rps) / baseline) * 100).toFixed(1)}%`
        const label = variant === 'unprofiled' ? 'unprofiled' : variant === 'cpu' ? 'opsctl profile (--cpu-prof)' : 'opsctl profile --heap (sampling)'
        rows.push(
          `| ${target.name} | ${label} | ${rps.toFixed(1)} | ${median(reports.map((report) => report.p50Ms)).toFixed(2)} | ${median(reports.map((report) => report.p99Ms)).toFixed(2)} | ${overhead} |`,
        )
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  return [
    `Closed model, ${CONNECTIONS} connections, ${durationMs / 1000}s per run, ${rounds} interleaved rounds; medians of the rounds.`,
    `Targets: ${TARGETS.map((target) => `${target.name} (${target.what})`).join('; ')}.`,
    'The unprofiled run has the same preload (it only reports the port); the profiled runs are `opsctl profile` itself.',
    '',
    '| target | variant | rps | p50 ms | p99 ms | throughput lost |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n')
}
