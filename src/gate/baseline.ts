/**
 * Baselines under `.opsctl/baselines/` (committable, small, documented in docs/gate.md):
 *   - `<check>.load.json`: per-run summaries of a load check (versioned JSON, below);
 *   - `<check>.<statement>.plan.json`: the EXPLAIN (FORMAT JSON) document of a statement, readable by
 *     `opsctl db plan-diff` and any plan visualiser;
 *   - `<check>.folded`: the profile as folded stacks (flamegraph.pl / speedscope format).
 * Reading validates the shape and names the file and what is wrong (exit 2): a hand-edited or
 * merge-conflicted baseline must not pass as "no regression".
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { badInput, parseJsonText } from '../core/index.js'

export const BASELINE_KIND = 'opsctl.gate.baseline'
export const BASELINE_VERSION = 1

const runSummarySchema = z.strictObject({
  requests: z.number().int().min(0),
  rps: z.number().min(0),
  p50: z.number().min(0),
  p90: z.number().min(0),
  p99: z.number().min(0),
  errorRate: z.number().min(0).max(1),
})

const machineSchema = z.strictObject({
  cores: z.number().int().min(1),
  node: z.string(),
  platform: z.string(),
  loadAverage: z.array(z.number()).length(3),
})

export const loadBaselineSchema = z.strictObject({
  kind: z.literal(BASELINE_KIND),
  version: z.literal(BASELINE_VERSION),
  check: z.string(),
  type: z.literal('load'),
  createdAt: z.iso.datetime(),
  scenario: z.string(),
  model: z.enum(['open', 'closed']),
  machine: machineSchema,
  /** Share of the runs' wall time in which some task waited for a CPU (Linux PSI); absent where unknown. */
  cpuPressure: z.number().min(0).max(1).optional(),
  runs: z.array(runSummarySchema).min(1),
})

export type LoadBaseline = z.infer<typeof loadBaselineSchema>
export type Machine = z.infer<typeof machineSchema>

export function machineFacts(): Machine {
  return {
    cores: availableParallelism(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
  }
}

export function loadBaselinePath(dir: string, check: string): string {
  return join(dir, `${check}.load.json`)
}

export function planBaselinePath(dir: string, check: string, statement: string): string {
  return join(dir, `${check}.${statement.replace(/[^\w.-]/g, '_')}.plan.json`)
}

export function profileBaselinePath(dir: string, check: string): string {
  return join(dir, `${check}.folded`)
}

/** The baseline of a load check, or undefined when there is none yet. */
export function readLoadBaseline(path: string): LoadBaseline | undefined {
  if (!existsSync(path)) return undefined
  const text = readFileSync(path, 'utf8')
  let value: unknown
  try {
    value = parseJsonText(text).value
  } catch (error) {
    throw badInput(`Cannot read baseline ${path}: ${(error as Error).message}`, REWRITE_HINT)
  }
  const parsed = loadBaselineSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw badInput(
      `Baseline ${path} is not a load baseline of this version: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      REWRITE_HINT,
    )
  }
  return parsed.data
}

const REWRITE_HINT = 'Take the baseline again with opsctl gate --update-baseline (and commit it).'

/** Written whole or not at all: a temporary file renamed over the old one. */
export function writeBaselineFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, text.endsWith('\n') ? text : `${text}\n`)
  renameSync(temporary, path)
}

export function writeLoadBaseline(path: string, baseline: LoadBaseline): void {
  writeBaselineFile(path, JSON.stringify(loadBaselineSchema.parse(baseline), null, 2))
}
