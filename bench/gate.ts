// The gate's load regression check on this machine: how often does it fail an unchanged build
// (A/A), and how often does it catch a 20% latency regression (A/B)?
//
// The reference service runs twice on PostgreSQL (seed scale 0.02), started by the gate's own
// service adapter: A as is, B with FAULT_CPU_WORK, a fixed amount of extra computation per request,
// calibrated once at the start so that B's client p50 is +20% of A's as the rounds measure it
// (side by side with --fresh: two checks of new processes a step).
// Work, not time, so it slows down with the machine as the rest of the code does. Earlier designs:
// FAULT_LATENCY_MS at 20% of A's p50 (a wait) shrank to +3..12% in rounds where the machine was
// slower; FAULT_SLOWDOWN (a burn of a share of each request's own time) fed on itself after a
// stall, p50 of a second within a run at 27%.
// Stored design: each round takes a baseline of R runs of A, then R runs of A and R runs of B (their
// order alternating between rounds), and judges both against the baseline with the gate's
// comparison (src/gate/compare.ts, default rules): A/A should pass, A/B should fail. The rounds
// are independent; every run is the gate's load check as it runs in CI (open model, seconds of
// warm-up, then measured seconds). All per-run summaries are written to a JSON file so that other
// rules can be evaluated on the same data (`--reanalyze FILE`).
//
//
// With --side-by-side, the comparison the gate makes when gate.reference is set: a reference
// build R (A as is, a process of its own) runs beside the build under test, runs interleaved
// R C C R R C …, through the gate's own load check (src/gate/check-load.ts). Each round judges a
// second process of A (A/A) and B (A/B) against R, in alternating order. With --fresh, every
// check starts its two processes anew and stops them after, as each CI job does: what differs
// from one process to the next (the JIT's choices, memory layout) is sampled too, instead of
// three long-lived processes serving every round.
//
//   npm run bench -- gate [--side-by-side [--fresh]] [--warmup=1] [--cpu-work=N] [rounds=40] [runs=5] [seconds=3] [rate=30] [out=/tmp/opsctl-gate-bench.json]
//   npm run bench -- gate --reanalyze /tmp/opsctl-gate-bench.json
//   npm run bench -- gate --pool-aa PAIRS FILE... (the A/A checks of several side-by-side files, on their first PAIRS pairs)
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { migrate, seed } from '../reference-service/src/index.js'
import { doCpuWork } from '../reference-service/src/faults.js'
import { gateCheckSchema } from '../src/core/config-sections/gate.js'
import { loadConfig } from '../src/core/index.js'
import { runLoadCheck, summarizeRun, type LoadCheck } from '../src/gate/check-load.js'
import type { CheckContext } from '../src/gate/context.js'
import { compareRuns, DEFAULT_RULES, type ComparisonDesign, type RegressionRules, type RunSummary } from '../src/gate/compare.js'
import { withCpuPressure } from '../src/gate/pressure.js'
import { startService, type RunningService } from '../src/gate/service.js'
import { runLoad } from '../src/load/index.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

interface Round {
  /** Stored design: R runs of A before the two sides. Side by side: empty (each side has its reference runs). */
  baseline: RunSummary[]
  /** Side by side: the reference build's runs interleaved with each side's. */
  reference?: { same: RunSummary[]; slower: RunSummary[] }
  same: RunSummary[]
  slower: RunSummary[]
  loadAverage: number[]
  /** CPU pressure (PSI) over each side's runs. */
  pressure?: { baseline?: number; same?: number; slower?: number }
  /** Sides whose load runs were themselves invalid (generator saturated, rate short): the gate says invalid. */
  invalidRuns?: Array<'baseline' | 'same' | 'slower'>
}

interface Raw {
  settings: {
    rounds: number
    runs: number
    seconds: number
    rate: number
    /** B's FAULT_CPU_WORK (units of fixed work per request), and the effect it had at calibration. */
    cpuWork?: number
    calibratedEffect?: number
    /** Earlier runs: B's FAULT_SLOWDOWN (share of each request's own time, burnt). */
    slowdown?: number
    /** Earlier runs: B's FAULT_LATENCY_MS. */
    faultMs?: number
    path: string
    design?: 'stored' | 'side-by-side'
    /** Seconds of warm-up before each run's measured seconds (1 when absent). */
    warmup?: number
    /** Side by side: new processes for every check. */
    fresh?: boolean
  }
  calibration: RunSummary[]
  rounds: Round[]
  loadAverages: number[][]
  startedAt: string
  finishedAt?: string
}

export default async function gateBench(args: string[]): Promise<string> {
  if (args[0] === '--reanalyze') return analyze(JSON.parse(readFileSync(args[1]!, 'utf8')) as Raw)
  if (args[0] === '--pool-aa') return poolUnchanged(Number(args[1]), args.slice(2))
  const options = args.filter((arg) => arg.startsWith('--'))
  args = args.filter((arg) => !arg.startsWith('--'))
  const design = options.includes('--side-by-side') ? 'side-by-side' : 'stored'
  const fresh = design === 'side-by-side' && options.includes('--fresh')
  const warmup = Number(options.find((option) => option.startsWith('--warmup='))?.slice('--warmup='.length) ?? 1)
  const [rounds = 40, runs = 5, seconds = 3, rate = 30] = args.slice(0, 4).map(Number)
  const out = args[4] ?? (design === 'side-by-side' ? '/tmp/opsctl-gate-bench-side-by-side.json' : '/tmp/opsctl-gate-bench.json')
  const path = '/reports/revenue'
  const database = `opsctl_bench_gate_${randomBytes(4).toString('hex')}`
  await admin(`CREATE DATABASE ${database}`)
  const url = new URL(SERVER_URL)
  url.pathname = `/${database}`
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-gate-bench-'))
  const services: RunningService[] = []
  // Ctrl-C ends the rounds; the services and the database still go (the raw file keeps what ran).
  let stopped = false
  const onSignal = () => (stopped = true)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 })
    await migrate(pool)
    await seed(pool, { scale: 0.02 })
    await pool.end()

    const start = async (env: Record<string, string>) => {
      const port = await freePort()
      const service = await startService({
        command: [process.execPath, '--import', 'tsx', 'reference-service/src/server.ts'],
        cwd: root,
        env: { DATABASE_URL: url.toString(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', PG_POOL_MAX: '4', ...env },
        readyUrl: `http://127.0.0.1:${port}/readyz`,
        startTimeoutMs: 60_000,
        stopTimeoutMs: 10_000,
      })
      services.push(service)
      return { url: `http://127.0.0.1:${port}`, service }
    }
    const stop = async (service: RunningService) => {
      await service.stop()
      services.splice(services.indexOf(service), 1)
    }
    const scenario = (target: string) => {
      const file = join(dir, `${new URL(target).port}.yaml`)
      writeFileSync(
        file,
        `name: bench\ntarget: ${target}\nload: { rate: ${rate}, duration: ${seconds}s, warmup: ${warmup}s, connections: 20 }\nrequests:\n  - path: ${path}?top=5\n`,
      )
      return file
    }
    let lastPressure: number | undefined
    let lastValid = true
    const measure = async (file: string, count: number) => {
      const { result, cpuPressure } = await withCpuPressure(() => runLoad({ source: { scenarioFile: file }, runs: count }))
      lastPressure = cpuPressure
      lastValid = result.validity.valid
      if (!result.validity.valid) process.stderr.write(`  (invalid run: ${result.validity.reasons.map((r) => r.message).join('; ')})\n`)
      return result.runs.map(summarizeRun)
    }
    // the median ratio of B's p50 to A's over runs interleaved A B B A …
    const pairedEffect = async (aFile: string, bFile: string, pairs: number) => {
      const ratios: number[] = []
      for (let pair = 0; pair < pairs; pair++) {
        const order = pair % 2 === 0 ? [aFile, bFile] : [bFile, aFile]
        const [first, second] = [(await measure(order[0]!, 1))[0]!.p50, (await measure(order[1]!, 1))[0]!.p50]
        ratios.push(order[0] === aFile ? second / first : first / second)
      }
      return median(ratios) - 1
    }

    const aUrl = (await start({})).url
    const a = scenario(aUrl)
    await measure(a, 2) // warm the JIT and the database cache
    const calibration = await measure(a, 5)
    const p50 = median(calibration.map((run) => run.p50))
    // side by side: the reference build is a process of A's own, measured through the gate's load check
    const reference = design === 'side-by-side' ? (await start({})).url : undefined
    const context: CheckContext = {
      settings: loadConfig({ cwd: dir }),
      rootDir: dir,
      baselineDir: join(dir, 'baselines'),
      outDir: join(dir, 'out'),
      updateBaseline: false,
      signal: new AbortController().signal,
      note: () => {},
    }
    /** One check of the gate: the build at `current` (or, --fresh, a new process with `env`) against the reference build. */
    const sideBySide = async (current: string, file: string, env: Record<string, string>) => {
      // --fresh: both processes new for this check, on the same ports' scenario file (the target is overridden)
      const started = fresh ? [await start({}), await start(env)] : []
      const [referenceUrl, serviceUrl] = fresh ? started.map((one) => one.url) : [reference!, current]
      try {
        // the gate's defaults, as opsctl.yaml would give them
        const check = gateCheckSchema.parse({ type: 'load', scenario: file, regression: { runs } }) as LoadCheck
        const result = await runLoadCheck('bench', check, { ...context, serviceUrl, referenceUrl })
        const details = result.details as {
          runs: RunSummary[]
          reference: { runs: RunSummary[]; cpuPressure?: number }
          validity: { valid: boolean }
          comparison?: unknown
        }
        // a load run of either build that was itself invalid (rate short, generator saturated): the gate says invalid
        const invalid = !details.validity.valid || !details.comparison
        return { ...details, invalid, status: result.status, pressure: details.reference.cpuPressure }
      } finally {
        for (const one of started) await stop(one.service)
      }
    }

    // B: a fixed amount of extra computation per request (FAULT_CPU_WORK), calibrated once to +20%
    // of A's p50 as the rounds will measure it (fresh processes are slower than warm ones, so the
    // same work is a smaller share there), then the same for every round; --cpu-work=N skips it
    const target = 0.2
    const effectOf = async (work: number): Promise<number> => {
      if (fresh) {
        const ratios: number[] = []
        for (let check = 0; check < 2; check++) {
          const { runs: current, reference } = await sideBySide('', a, { FAULT_CPU_WORK: String(work) })
          ratios.push(...pairRatios(current, reference.runs))
        }
        return median(ratios) - 1
      }
      const candidate = await start({ FAULT_CPU_WORK: String(work) })
      try {
        const file = scenario(candidate.url)
        await measure(file, 1)
        return await pairedEffect(a, file, 12)
      } finally {
        await stop(candidate.service)
      }
    }
    const fixedWork = options.find((option) => option.startsWith('--cpu-work='))?.slice('--cpu-work='.length)
    let cpuWork = fixedWork ? Number(fixedWork) : Math.max(1, Math.round((target * p50) / msPerWorkUnit()))
    let calibratedEffect: number | undefined
    for (let step = 1; !fixedWork && step <= 4; step++) {
      calibratedEffect = await effectOf(cpuWork)
      process.stderr.write(`A: p50 ${p50.toFixed(2)} ms; B with FAULT_CPU_WORK=${cpuWork}: ${pct(calibratedEffect)}\n`)
      if (Math.abs(calibratedEffect - target) <= 0.02) break
      // the work's share grows about linearly with it; half steps, as one measurement is noisy
      const next = Math.round((cpuWork * target) / Math.max(0.02, calibratedEffect))
      cpuWork = Math.max(1, Math.round((cpuWork + next) / 2))
    }
    const bEnv = { FAULT_CPU_WORK: String(cpuWork) }
    // one B process serves every round; --fresh starts its own for each check (the target is overridden)
    let [bUrl, b] = [aUrl, a]
    if (!fresh) {
      bUrl = (await start(bEnv)).url
      b = scenario(bUrl)
      await measure(b, 1)
    }

    const raw: Raw = {
      settings: { rounds, runs, seconds, rate, cpuWork, calibratedEffect, path, design, warmup, fresh },
      calibration,
      rounds: [],
      loadAverages: [],
      startedAt: new Date().toISOString(),
    }
    for (let round = 0; round < rounds && !stopped && reference; round++) {
      const sameFirst = round % 2 === 0
      const first = await (sameFirst ? sideBySide(aUrl, a, {}) : sideBySide(bUrl, b, bEnv))
      const second = await (sameFirst ? sideBySide(bUrl, b, bEnv) : sideBySide(aUrl, a, {}))
      const [same, slower] = sameFirst ? [first, second] : [second, first]
      const pressure: Round['pressure'] = { same: same.pressure, slower: slower.pressure }
      const invalidRuns: NonNullable<Round['invalidRuns']> = []
      if (same.invalid || same.reference.runs.length < runs || same.runs.length < runs) invalidRuns.push('same')
      if (slower.invalid || slower.reference.runs.length < runs || slower.runs.length < runs) invalidRuns.push('slower')
      raw.rounds.push({
        baseline: [],
        reference: { same: same.reference.runs, slower: slower.reference.runs },
        same: same.runs,
        slower: slower.runs,
        loadAverage: loadavg(),
        pressure,
        invalidRuns,
      })
      writeFileSync(out, JSON.stringify(raw))
      const latest = raw.rounds.at(-1)!
      process.stderr.write(
        `round ${round + 1}/${rounds}: A/A ${judge(latest, 'same', DEFAULT_RULES)}, A/B ${judge(latest, 'slower', DEFAULT_RULES)}, load ${loadavg()[0]!.toFixed(2)}, CPU pressure ${[pressure.same, pressure.slower].map((p) => (p === undefined ? '?' : `${Math.round(p * 100)}%`)).join(' ')}\n`,
      )
    }
    for (let round = 0; round < rounds && !stopped && !reference; round++) {
      const baseline = await measure(a, runs)
      const pressure: Round['pressure'] = { baseline: lastPressure }
      const invalidRuns: NonNullable<Round['invalidRuns']> = lastValid ? [] : ['baseline']
      const first = round % 2 === 0 ? a : b
      const second = first === a ? b : a
      const one = await measure(first, runs)
      const onePressure = lastPressure
      if (!lastValid) invalidRuns.push(first === a ? 'same' : 'slower')
      const two = await measure(second, runs)
      if (!lastValid) invalidRuns.push(second === a ? 'same' : 'slower')
      const same = first === a ? one : two
      const slower = first === a ? two : one
      pressure.same = first === a ? onePressure : lastPressure
      pressure.slower = first === a ? lastPressure : onePressure
      raw.rounds.push({ baseline, same, slower, loadAverage: loadavg(), pressure, invalidRuns })
      writeFileSync(out, JSON.stringify(raw))
      const latest = raw.rounds.at(-1)!
      const aa = judge(latest, 'same', DEFAULT_RULES)
      const ab = judge(latest, 'slower', DEFAULT_RULES)
      process.stderr.write(
        `round ${round + 1}/${rounds}: A/A ${aa}, A/B ${ab}, load ${loadavg()[0]!.toFixed(2)}, CPU pressure ${[pressure.baseline, pressure.same, pressure.slower].map((p) => (p === undefined ? '?' : `${Math.round(p * 100)}%`)).join(' ')}\n`,
      )
    }
    raw.finishedAt = new Date().toISOString()
    writeFileSync(out, JSON.stringify(raw))
    return analyze(raw) + `\n\nRaw per-run summaries: ${out} (re-analyse with \`npm run bench -- gate --reanalyze ${out}\`).`
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    for (const service of services) await service.stop()
    rmSync(dir, { recursive: true, force: true })
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  }
}

function analyze(raw: Raw): string {
  const { settings } = raw
  const unguarded = { ...DEFAULT_RULES, maxCpuPressure: 1 }
  const sideBySide = settings.design === 'side-by-side'
  // the first k pairs of a side-by-side check are the check a smaller regression.runs would have made
  const fewer = sideBySide
    ? [8, 10]
        .filter((k) => k < settings.runs)
        .map((k) => [`default, the first ${k} pairs only (regression.runs ${k})`, DEFAULT_RULES, 'paired', k] satisfies Ruleset)
    : []
  const rulesets: Ruleset[] = [
    [
      `default (p50 10%, p90 20%, 95%, spread 25%, tails 50%${sideBySide ? ', runs paired with their reference runs' : ', CPU pressure 30%'})`,
      DEFAULT_RULES,
    ],
    ...(sideBySide
      ? [
          ['default, runs as two independent samples (Mann–Whitney, before pairing)', DEFAULT_RULES, 'independent'] satisfies Ruleset,
          ...fewer,
        ]
      : []),
    [
      'default, but the tails’ spread limit 25% like the p50’s (maxTailSpread before 2026-12-06)',
      { ...DEFAULT_RULES, maxTailSpread: 0.25 },
    ],
    ['default without the CPU-pressure guard', unguarded],
    ['… and spread limit 40% (tails 80%)', { ...unguarded, maxSpread: 0.4, maxTailSpread: 0.8 }],
    ['… and p50 only', { ...unguarded, metrics: ['p50'] }],
    ['… and tolerance 5%, p90 10%', { ...unguarded, tolerance: 0.05, tailTolerance: 0.1 }],
    [
      '… and no spread limit (test and tolerance alone)',
      { ...unguarded, maxSpread: Number.POSITIVE_INFINITY, maxTailSpread: Number.POSITIVE_INFINITY },
    ],
  ]
  const all = raw.rounds.flatMap((round) => [
    ...round.baseline,
    ...round.same,
    ...(round.reference?.same ?? []),
    ...(round.reference?.slower ?? []),
  ])
  const slower = raw.rounds.flatMap((round) => round.slower)
  const effect = median(slower.map((run) => run.p50)) / median(all.map((run) => run.p50)) - 1
  const effect99 = median(slower.map((run) => run.p99)) / median(all.map((run) => run.p99)) - 1
  const loads = raw.rounds.map((round) => round.loadAverage[0]!)
  const pressures = raw.rounds.flatMap((round) =>
    Object.values(round.pressure ?? {}).filter((value): value is number => value !== undefined),
  )
  const lines = [
    (sideBySide
      ? `Side by side (gate.reference): ${raw.rounds.length} rounds, each: ${settings.runs} runs of a second process of A and ${settings.runs} of B (alternating order), each side's runs interleaved R C C R … with ${settings.runs} runs of the reference process R (A as is), through the gate's load check${settings.fresh ? ', every check with two new processes (started for it, stopped after)' : ', the same three processes in every round'}; `
      : `${raw.rounds.length} rounds, each: a baseline of ${settings.runs} runs of A, then ${settings.runs} runs of A and ${settings.runs} of B (alternating order); `) +
      `every run ${settings.seconds}s measured after ${settings.warmup ?? 1}s of warm-up, open model at ${settings.rate} rps on GET ${settings.path}?top=5 (reference service, PostgreSQL, seed scale 0.02). ` +
      `B: ${faultOf(settings)}, which moved the median p50 by ${pct(effect)} and p99 by ${pct(effect99)} over all runs. ` +
      `1-minute load average during the rounds: median ${median(loads).toFixed(2)}, ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}; ` +
      `CPU pressure (PSI some) over each side's runs: median ${pressures.length ? share(median(pressures)) : 'unknown'}, ${pressures.length ? `${share(Math.min(...pressures))}–${share(Math.max(...pressures))}` : ''}. ` +
      `${raw.startedAt} – ${raw.finishedAt ?? 'unfinished'}.`,
    '',
    '| rules | A/A fail | A/A inconclusive | A/A invalid | A/A pass | A/B fail (detected) | A/B inconclusive | A/B invalid | A/B pass (missed) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const [label, rules, design, pairs] of rulesets) {
    const aa = tally(raw.rounds, 'same', rules, design, pairs)
    const ab = tally(raw.rounds, 'slower', rules, design, pairs)
    const n = raw.rounds.length
    lines.push(
      `| ${label} | ${aa.fail}/${n} (≤ ${share(upper95(aa.fail, n))} at 95%) | ${aa.inconclusive} | ${aa.invalid} | ${aa.pass} | ${ab.fail}/${n} (≥ ${share(lower95(ab.fail, n))} at 95%) | ${ab.inconclusive} | ${ab.invalid} | ${ab.pass} |`,
    )
  }
  if (sideBySide) {
    // what B's regression was in each check, measured as the gate measures it (median pair ratio)
    const effects = raw.rounds
      .filter((round) => round.reference && round.slower.length === round.reference.slower.length)
      .map((round) => median(pairRatios(round.slower, round.reference!.slower)) - 1)
      .sort((x, y) => x - y)
    if (effects.length)
      lines.push(
        '',
        `B's regression per check (median ratio of its runs' p50 to their reference runs'): median ${pct(median(effects))}, ` +
          `${pct(effects[0]!)} to ${pct(effects.at(-1)!)}; ${effects.filter((effect) => effect < DEFAULT_RULES.tolerance).length} of ${effects.length} checks under the default tolerance of ${pct(DEFAULT_RULES.tolerance)}.`,
      )
  }
  return lines.join('\n')
}

function faultOf(settings: Raw['settings']): string {
  if (settings.cpuWork !== undefined)
    return `FAULT_CPU_WORK=${settings.cpuWork}${settings.calibratedEffect !== undefined ? ` (calibrated at the start: ${pct(settings.calibratedEffect)} of the reference's p50 in the last calibration step)` : ''}`
  return settings.slowdown !== undefined ? `FAULT_SLOWDOWN=${settings.slowdown}` : `FAULT_LATENCY_MS=${settings.faultMs}`
}

/** Milliseconds one unit of FAULT_CPU_WORK takes in this process (warmed up): the calibration's first guess. */
function msPerWorkUnit(): number {
  doCpuWork(2000)
  const start = performance.now()
  doCpuWork(2000)
  return (performance.now() - start) / 2000
}

/**
 * The A/A checks of several side-by-side runs of the bench, judged with the default rules on their
 * first `pairs` pairs: A's checks do not depend on what B was, so runs made for different B's
 * (with the same rate, run length and fresh processes) add up to one false-failure estimate.
 */
function poolUnchanged(pairs: number, files: string[]): string {
  const counts = { pass: 0, fail: 0, invalid: 0, inconclusive: 0 }
  const lines = ['| file | rounds | runs a side | A/A fail | inconclusive | invalid |', '| --- | ---: | ---: | ---: | ---: | ---: |']
  for (const file of files) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Raw
    if (raw.settings.design !== 'side-by-side' || raw.settings.runs < pairs)
      throw new Error(`${file}: not a side-by-side run with at least ${pairs} runs a side`)
    const own = tally(raw.rounds, 'same', DEFAULT_RULES, 'paired', pairs)
    for (const key of Object.keys(own) as Array<keyof typeof own>) counts[key] += own[key]
    lines.push(`| ${file} | ${raw.rounds.length} | ${raw.settings.runs} | ${own.fail} | ${own.inconclusive} | ${own.invalid} |`)
  }
  const n = counts.pass + counts.fail + counts.invalid + counts.inconclusive
  lines.push(
    `| all, first ${pairs} pairs, default rules | ${n} | | ${counts.fail}/${n} (≤ ${share(upper95(counts.fail, n))} at 95%) | ${counts.inconclusive} | ${counts.invalid} |`,
  )
  return lines.join('\n')
}

/** The verdicts of one side over the rounds, judged on their first `pairs` pairs when given. */
function tally(rounds: Round[], side: 'same' | 'slower', rules: RegressionRules, design?: ComparisonDesign, pairs?: number) {
  const counts = { pass: 0, fail: 0, invalid: 0, inconclusive: 0 }
  for (const round of rounds) counts[judge(pairs ? firstPairs(round, pairs) : round, side, rules, design)]++
  return counts
}

/** Each run's p50 over the p50 of its reference run (side by side, paired). */
function pairRatios(runs: RunSummary[], reference: RunSummary[]): number[] {
  return runs.map((run, i) => run.p50 / reference[i]!.p50)
}

type Ruleset = [label: string, rules: RegressionRules, design?: ComparisonDesign, pairs?: number]

function firstPairs(round: Round, pairs: number): Round {
  const { reference } = round
  return {
    ...round,
    same: round.same.slice(0, pairs),
    slower: round.slower.slice(0, pairs),
    ...(reference ? { reference: { same: reference.same.slice(0, pairs), slower: reference.slower.slice(0, pairs) } } : {}),
  }
}

/** As the gate judges: an invalid load run makes the check invalid; otherwise the comparison decides. */
function judge(round: Round, side: 'same' | 'slower', rules: RegressionRules, design: ComparisonDesign = 'paired') {
  if (round.invalidRuns?.includes('baseline') || round.invalidRuns?.includes(side)) return 'invalid' as const
  // side by side, both sides ran in the same minutes: the gate does not judge CPU pressure, and pairs each run with its reference run
  if (round.reference) return compareRuns(round.reference[side], round[side], rules, { design }).verdict.status
  return compareRuns(round.baseline, round[side], rules, {
    cpuPressure: { baseline: round.pressure?.baseline, current: round.pressure?.[side] },
  }).verdict.status
}

/** Clopper–Pearson bounds by bisection on the binomial tail. */
function binomialTail(k: number, n: number, p: number, upperTail: boolean): number {
  let total = 0
  for (let i = 0; i <= n; i++) {
    if (upperTail ? i >= k : i <= k) total += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log(1 - p))
  }
  return total
}
function logChoose(n: number, k: number): number {
  let value = 0
  for (let i = 1; i <= k; i++) value += Math.log((n - k + i) / i)
  return value
}
function upper95(k: number, n: number): number {
  if (k >= n) return 1
  let [low, high] = [0, 1]
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2
    if (binomialTail(k, n, mid, false) > 0.05) low = mid
    else high = mid
  }
  return high
}
function lower95(k: number, n: number): number {
  if (k <= 0) return 0
  let [low, high] = [0, 1]
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2
    if (binomialTail(k, n, mid, true) < 0.05) low = mid
    else high = mid
  }
  return low
}

function pct(value: number): string {
  return `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`
}

function share(value: number): string {
  return `${(value * 100).toFixed(1)}%`
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
