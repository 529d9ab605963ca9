import { z } from 'zod'

/**
 * The `gate:` section: the CI performance gate's budget (docs/gate.md). Named checks reuse the
 * load, nplusone, explain and profile modules; the gate can start the service under test first.
 * Durations and percentages stay text here ("30s", "10%") and are parsed where the gate reads
 * them, so a wrong one names its key.
 */
const defaults = {
  baselines: '.opsctl/baselines',
  out: '.opsctl/gate',
  startTimeout: '60s',
  stopTimeout: '10s',
  regression: {
    // 8: side by side, 6 pairs are the fewest that can reach p < 0.05, and 8 outvote a disturbed
    // pair; bench/RESULTS.md "gate" measures what 8 short runs catch on a 2-core machine
    runs: 8,
    metrics: ['p50', 'p90'] as Array<'p50' | 'p90' | 'p99' | 'rps' | 'error_rate'>,
    tolerance: '10%',
    tailTolerance: '20%',
    errorRateTolerance: '1%',
    confidence: '95%',
    maxSpread: '25%',
    // p90 rests on a tenth of a run's requests: twice the spread, as tailTolerance is twice tolerance
    // (with 25%, 2 of 73 unchanged builds were invalid for their p90 alone; bench/RESULTS.md "gate")
    maxTailSpread: '50%',
    maxCpuPressure: '30%',
  },
  profile: { duration: '5s', connections: 4, maxGrowth: '5%' },
}

const durationText = z.string().regex(/^\s*\d+(\.\d+)?\s*(us|µs|ms|s|m|h)?\s*$/, 'expected a duration such as 250ms, 30s or 10m')
const percentText = z.string().regex(/^\s*\d+(\.\d+)?\s*%\s*$|^\s*0?\.\d+\s*$/, 'expected a percentage such as 10%')

const serviceSchema = z
  .strictObject({
    command: z
      .union([z.string().min(1), z.array(z.string()).min(1)])
      .describe('The command that starts the service: a list (run as is) or a string (run by sh -c).'),
    cwd: z.string().optional().describe('Working directory of the command, relative to opsctl.yaml (default: its directory).'),
    env: z.record(z.string(), z.string()).default({}).describe('Environment added to the command (on top of opsctl’s own).'),
    readyUrl: z.url().describe('Polled until it answers 2xx: the service is ready, e.g. http://127.0.0.1:3000/readyz.'),
    url: z.url().optional().describe('Base URL the checks send traffic to (default: the origin of readyUrl).'),
    startTimeout: durationText.default(defaults.startTimeout).describe('How long the service may take to become ready.'),
    stopTimeout: durationText.default(defaults.stopTimeout).describe('After SIGTERM, how long before the process group is killed.'),
  })
  .describe('The service under test, started before the checks and stopped after them.')

const regressionSchema = z
  .strictObject({
    runs: z
      .number()
      .int()
      .min(3)
      .max(50)
      .default(defaults.regression.runs)
      .describe('Runs on each side (baseline and current; side by side, the pairs of runs).'),
    metrics: z
      .array(z.enum(['p50', 'p90', 'p99', 'rps', 'error_rate']))
      .min(1)
      .default(defaults.regression.metrics)
      .describe('Per-run values compared with the baseline.'),
    tolerance: percentText.default(defaults.regression.tolerance).describe('Smallest relative change of p50 or rps that fails.'),
    errorRateTolerance: percentText
      .default(defaults.regression.errorRateTolerance)
      .describe('Smallest rise of the error rate that fails, in points.'),
    tailTolerance: percentText
      .default(defaults.regression.tailTolerance)
      .describe('Smallest change of p90 or p99 that fails (tails move more from run to run).'),
    confidence: percentText
      .default(defaults.regression.confidence)
      .describe('Confidence of the test (Mann–Whitney; side by side, Wilcoxon signed-rank): 95% = p < 0.05.'),
    maxSpread: percentText
      .default(defaults.regression.maxSpread)
      .describe(
        'Runs of one side (side by side: the pairs’ ratios) disagreeing by more than this (robust coefficient of variation) make the measurement invalid.',
      ),
    maxTailSpread: percentText
      .default(defaults.regression.maxTailSpread)
      .describe('The same for p90 and p99, which rest on a tenth of the requests and spread more.'),
    maxCpuPressure: percentText
      .default(defaults.regression.maxCpuPressure)
      .describe('CPU pressure (Linux PSI: time some task waited for a CPU) above which a side was measured on a busy machine: invalid.'),
  })
  .describe('Compare with the stored baseline (or gate.reference side by side): repeated runs, a rank test with an effect-size tolerance.')

const loadCheck = z.strictObject({
  type: z.literal('load'),
  scenario: z.string().describe('A load scenario file (docs/load.md), relative to opsctl.yaml; its target is the service URL.'),
  thresholds: z.array(z.string()).default([]).describe("Thresholds added to the scenario's, e.g. p99<250ms."),
  regression: regressionSchema.optional(),
})

const nplusoneCheck = z.strictObject({
  type: z.literal('nplusone'),
  max: z.number().int().min(0).default(0).describe('At most this many distinct N+1 patterns (after allow).'),
  allow: z.array(z.string()).default([]).describe('Accepted patterns: fingerprints (16 hex digits) or SQL globs.'),
  log: z.array(z.string()).optional().describe('Read PostgreSQL server logs instead of the live hook.'),
  otlp: z.array(z.string()).optional().describe('Read OTLP JSON traces instead of the live hook.'),
  requests: z
    .array(z.string().regex(/^\//, 'expected a path starting with /'))
    .default([])
    .describe('Paths requested (GET) once each before the analysis, on top of the other checks’ traffic.'),
})

const forbiddenNode = z.strictObject({
  type: z.string().min(1).describe('A plan node type, e.g. Seq Scan.'),
  relation: z.string().optional().describe('Only on this table.'),
  minRows: z.number().int().min(0).default(0).describe('Only when the node reads at least this many rows (the table, for a Seq Scan).'),
})

const explainCheck = z.strictObject({
  type: z.literal('explain'),
  statements: z
    .record(z.string(), z.strictObject({ sql: z.string().min(1), params: z.array(z.string()).default([]) }))
    .describe('Named statements to EXPLAIN (ANALYZE, in a rolled-back transaction).'),
  maxCost: z.number().positive().optional().describe("The planner's total cost may not exceed this."),
  forbid: z
    .strictObject({
      findings: z.array(z.string()).default([]).describe('Finding codes that fail the check, e.g. seq-scan-filter.'),
      nodes: z.array(forbiddenNode).default([]),
    })
    .default({ findings: [], nodes: [] }),
  diff: z.boolean().default(true).describe('Diff each plan against its stored baseline plan (cost and new findings).'),
  maxCostRatio: z.number().min(1).optional().describe('Cost growth against the baseline plan that fails (default: the plan-diff rule).'),
  analyze: z.boolean().default(true),
})

const profileCheck = z.strictObject({
  type: z.literal('profile'),
  path: z.string().regex(/^\//, 'expected a path starting with /').optional().describe('Path loaded while profiling.'),
  scenario: z.string().optional().describe('Or a load scenario file.'),
  duration: durationText.default(defaults.profile.duration),
  connections: z.number().int().min(1).default(defaults.profile.connections),
  rate: z.number().positive().optional(),
  maxGrowth: percentText.default(defaults.profile.maxGrowth).describe("No function's self-time share may grow by more points than this."),
  command: z.array(z.string()).min(1).optional().describe('A node command to profile (default: gate.service.command).'),
  env: z.record(z.string(), z.string()).default({}).describe('Environment added to the service’s for this check.'),
})

export const gateCheckSchema = z.discriminatedUnion('type', [loadCheck, nplusoneCheck, explainCheck, profileCheck])

export const gateSection = z
  .strictObject({
    service: serviceSchema.optional(),
    reference: serviceSchema
      .describe(
        'The baseline build (the main branch, say), started beside the service: load checks with regression compare with it, runs interleaved, instead of with the stored baseline.',
      )
      .optional(),
    baselines: z.string().default(defaults.baselines).describe('Directory of the stored baselines, relative to opsctl.yaml (commit it).'),
    out: z.string().default(defaults.out).describe('Directory of the reports and evidence files (flame-graph and plan diffs).'),
    checks: z
      .record(z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'check names are letters, digits, ".", "_" and "-"'), gateCheckSchema)
      .default({})
      .describe('Named checks: type load, nplusone, explain or profile.'),
  })
  .default({ baselines: defaults.baselines, out: defaults.out, checks: {} })
  .describe('The CI performance gate (opsctl gate).')
