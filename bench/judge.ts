/**
 * The canary judge's error rates on synthetic windows (issue #19's aim: at most 1% false
 * rollbacks of an identical canary across 200 runs, at least 95% detection of a 20% p99
 * regression). Each run draws a fresh stable and canary window from log-normal latencies (the
 * shape of a service's) and asks judgeCanary for a verdict: A/A (same distribution) counts
 * rollbacks, A/B (canary 20% slower at every quantile, so its p99 is 20% worse; and a tail-only
 * regression, 2% of requests 10x slower, which moves p99 and not the median) counts detections.
 *
 *   npm run bench -- judge [runs=200]
 */
import { judgeCanary, type JudgedMetric } from '../src/deploy/judge.js'
import { latencies, errorsOf } from '../test/deploy/samples.js'

interface Scenario {
  name: string
  stable: number
  canary: number
  make(seed: number, stableN: number, canaryN: number): JudgedMetric[]
  expect: 'pass' | 'fail'
}

const metricsOf = (stable: number[], canary: number[], seed: number, stableN: number, canaryN: number): JudgedMetric[] => [
  { name: 'latency', kind: 'latency', stable, canary },
  { name: 'p99', kind: 'latency', stable, canary, quantile: 0.99 },
  { name: 'errors', kind: 'errors', stable: errorsOf(stableN, 0.002, seed + 7), canary: errorsOf(canaryN, 0.002, seed + 8) },
]

const windows = [
  { label: '10% canary at 100 rps for 30 s', stable: 2700, canary: 300 },
  { label: 'thin: 10% canary at 20 rps for 60 s', stable: 1080, canary: 120 },
]

function scenarios(): Scenario[] {
  return windows.flatMap((window) => [
    {
      name: `A/A identical canary (${window.label})`,
      ...window,
      expect: 'pass' as const,
      make: (seed: number, s: number, c: number) => metricsOf(latencies(s, 40, seed), latencies(c, 40, seed + 1), seed, s, c),
    },
    {
      name: `A/B canary 20% slower everywhere (${window.label})`,
      ...window,
      expect: 'fail' as const,
      make: (seed: number, s: number, c: number) => metricsOf(latencies(s, 40, seed), latencies(c, 48, seed + 1), seed, s, c),
    },
    {
      name: `A/B 2% of requests 10x slower: p99 only (${window.label})`,
      ...window,
      expect: 'fail' as const,
      make: (seed: number, s: number, c: number) =>
        metricsOf(
          latencies(s, 40, seed),
          latencies(c, 40, seed + 1).map((value, i) => (i % 50 === 0 ? value * 10 : value)),
          seed,
          s,
          c,
        ),
    },
  ])
}

/** Wilson score interval of a proportion, 95%. */
function wilson(successes: number, n: number): [number, number] {
  const z = 1.96
  const p = successes / n
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n)
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n)
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

export default async function judgeBench(args: string[]): Promise<string> {
  const runs = Number(args[0] ?? 200)
  const rows: string[] = []
  for (const scenario of scenarios()) {
    let failed = 0
    let inconclusive = 0
    const started = performance.now()
    for (let run = 0; run < runs; run++) {
      const seed = 1_000_003 * (run + 1)
      const result = judgeCanary(scenario.make(seed, scenario.stable, scenario.canary))
      if (result.status === 'fail') failed++
      else if (result.status === 'inconclusive') inconclusive++
    }
    const perRun = (performance.now() - started) / runs
    const [low, high] = wilson(failed, runs)
    const rate = `${((failed / runs) * 100).toFixed(1)}% (95% CI ${(low * 100).toFixed(1)}–${(high * 100).toFixed(1)}%)`
    const label = scenario.expect === 'pass' ? `false rollbacks ${rate}` : `detected ${rate}`
    rows.push(`| ${scenario.name} | ${runs} | ${label} | ${inconclusive} | ${perRun.toFixed(0)} ms |`)
  }
  return [
    'Each run: fresh seeded log-normal windows (median 40 ms, σ 0.35), metrics latency (Mann–Whitney, 5% tolerance),',
    "p99 (share of canary requests above stable's p99, proportion test, tolerance: twice stable's share) and errors (0.2% both sides),",
    'alpha 0.01 per step (Bonferroni: 0.0033 per metric), at least 100 samples per side; a run fails when any metric fails.',
    '',
    '| scenario | runs | rollbacks (fail verdicts) | inconclusive | judge time per run |',
    '| --- | ---: | --- | ---: | ---: |',
    ...rows,
  ].join('\n')
}
