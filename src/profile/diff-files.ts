/**
 * `opsctl profile diff BEFORE AFTER`: read two profiles (folded stacks, .cpuprofile, or an
 * `opsctl profile` output directory), rank the functions whose share changed, write the
 * differential flame graph, and check --max-growth. Glue.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { badInput, environmentError, verdict, type Verdict } from '../core/index.js'
import { cpuProfileStacks, parseCpuProfile } from './cpuprofile.js'
import { diffProfiles, growthOver, type FunctionChange } from './diff.js'
import { renderDiffFlameGraphHtml } from './flamegraph-html.js'
import { parseFolded } from './folded.js'
import { heapProfileStacks, parseHeapProfile } from './heap-profile.js'
import type { StackProfile } from './stacks.js'

export interface DiffOptions {
  before: string
  after: string
  /** The HTML file to write. */
  out: string
  /** Rows in the ranked list (default 15). */
  top?: number
  /** A fraction: 0.05 fails when any function's self share grew by more than 5 points. */
  maxGrowth?: number
  /** .cpuprofile paths under it are shown relative to it (default: the working directory). */
  baseDir?: string
}

export interface DiffRun {
  before: { file: string; total: number; idle: number }
  after: { file: string; total: number; idle: number }
  /** Largest change of self share first. */
  changes: FunctionChange[]
  html: string
  gate?: { maxGrowth: number; passed: boolean; exceeded: FunctionChange[] }
  /** --max-growth's verdict: fail when a function grew by more; a pass without it. */
  verdict: Verdict
}

/** A profile directory means its folded file (paths in it are relative to the target's working directory). */
export function resolveProfileFile(path: string): string {
  if (!existsSync(path))
    throw badInput(`No such profile: ${path}`, 'Give a .folded or .cpuprofile file, or a directory written by opsctl profile.')
  if (!statSync(path).isDirectory()) return path
  for (const name of ['profile.folded', 'profile.cpuprofile']) if (existsSync(join(path, name))) return join(path, name)
  throw badInput(`${path} has no profile.folded or profile.cpuprofile`, 'Give a directory written by opsctl profile, or the file itself.')
}

/** By content, not by name: a JSON document is a V8 profile, anything else must be folded stacks. */
export function readProfileFile(path: string, baseDir?: string): StackProfile {
  const file = resolveProfileFile(path)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw environmentError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (/^\s*[{[]/.test(text)) {
    if (/^\s*\{\s*"head"/.test(text)) return heapProfileStacks(parseHeapProfile(text, file), baseDir ? { baseDir } : {})
    return cpuProfileStacks(parseCpuProfile(text, file), baseDir ? { baseDir } : {})
  }
  return parseFolded(text, file)
}

export function diffProfileFiles(options: DiffOptions): DiffRun {
  const baseDir = options.baseDir ?? process.cwd()
  const before = readProfileFile(options.before, baseDir)
  const after = readProfileFile(options.after, baseDir)
  if (before.unit !== after.unit)
    throw badInput(
      `Cannot compare ${before.unit} with ${after.unit}: ${options.before} and ${options.after} are different kinds of profile`,
    )
  const diff = diffProfiles(before, after)
  const html = resolve(options.out)
  mkdirSync(dirname(html), { recursive: true })
  writeFileSync(
    html,
    renderDiffFlameGraphHtml(before, after, diff.changes, {
      title: 'opsctl profile diff',
      meta: `before: ${options.before} (${diff.before.total.toLocaleString('en-US')} on-CPU ${before.unit})\nafter: ${options.after} (${diff.after.total.toLocaleString('en-US')} on-CPU ${after.unit})`,
      top: Math.max(options.top ?? 15, 25),
    }),
  )
  const run: DiffRun = {
    before: { file: options.before, ...diff.before },
    after: { file: options.after, ...diff.after },
    changes: diff.changes.slice(0, options.top ?? 15),
    html,
    verdict: verdict('pass'),
  }
  if (options.maxGrowth !== undefined) {
    const exceeded = growthOver(diff, options.maxGrowth).map((change) => ({ ...change }))
    run.gate = { maxGrowth: options.maxGrowth, passed: exceeded.length === 0, exceeded }
    run.verdict = growthVerdict(options.maxGrowth, exceeded, html)
  }
  return run
}

function growthVerdict(maxGrowth: number, exceeded: FunctionChange[], html: string): Verdict {
  const worst = exceeded[0]
  if (!worst) return verdict('pass')
  const limit = `${(maxGrowth * 100).toFixed(2).replace(/\.?0+$/, '')}%`
  return verdict('fail', [`${exceeded.length} function(s) grew by more than ${limit} of self time; worst: ${worst.name}`], {
    hint: `Open the differential flame graph ${html} to see where the time went.`,
    evidence: {
      maxGrowth,
      exceeded: exceeded.map((change) => ({ name: change.name, location: change.location, selfDelta: change.selfDelta })),
    },
  })
}
