/**
 * What a gate run produces: one result per check and one verdict. Plain, serialisable data: it is
 * what `--json` prints and what every reporter (terminal, JUnit, Markdown, GitHub) renders.
 */
import { relative, resolve } from 'node:path'
import type { Verdict, VerdictStatus } from '../core/index.js'

export type CheckType = 'load' | 'nplusone' | 'explain' | 'profile'

/** One piece of evidence for a check's outcome; a source location when the check knows it. */
export interface Evidence {
  message: string
  /** Repository-relative path, e.g. reference-service/src/store/orders.ts. */
  file?: string
  line?: number
}

export interface CheckFile {
  label: string
  /** Relative to the gate's working directory when it lies under it. */
  path: string
}

export interface CheckResult {
  name: string
  type: CheckType
  status: VerdictStatus
  verdict: Verdict
  /** One line: what was measured. */
  measured: string
  /** One line: what it had to stay within. */
  budget: string
  evidence: Evidence[]
  files: CheckFile[]
  durationMs: number
  /** The stored baseline compared with, or (side-by-side) the reference build's URL measured beside the service. */
  baseline?: { path: string; state: 'compared' | 'missing' | 'updated' | 'side-by-side' }
  /** The module's own result, for --json (a comparison, N+1 patterns, plan diffs, profile changes). */
  details?: unknown
}

export const REPORT_KIND = 'opsctl.gate.report'
export const REPORT_VERSION = 1

export interface GateReport {
  kind: typeof REPORT_KIND
  version: typeof REPORT_VERSION
  startedAt: string
  finishedAt: string
  durationMs: number
  /** check: compare with the baselines; update-baseline: store new ones. */
  mode: 'check' | 'update-baseline'
  service?: { command: string; url: string; pid: number; exit?: { code: number | null; signal: string | null } }
  /** The reference build (gate.reference), started beside the service for side-by-side comparisons. */
  reference?: { command: string; url: string; pid: number; exit?: { code: number | null; signal: string | null } }
  checks: CheckResult[]
  status: VerdictStatus
  verdict: Verdict
  baselines: { dir: string; updated: string[] }
  files: { dir: string; junit?: string; markdown?: string; stepSummary?: string }
  /** Ctrl-C: the checks that ran are reported, the rest are not. */
  interrupted?: true
  /** The gate.verdict journal event, or why it could not be written. */
  journal?: { recorded: boolean; id?: string; error?: string }
}

/** `path:line[:column] (function)`, as the live N+1 hook and profile locations write them. */
export function sourceLocation(text: string | undefined): { file: string; line: number } | undefined {
  if (!text) return undefined
  const match = /^(.+?):(\d+)(?::\d+)?(?:\s+\(.*\))?$/.exec(text.trim())
  if (!match || match[1]!.startsWith('node:') || match[1]!.startsWith('(')) return undefined
  return { file: match[1]!, line: Number(match[2]) }
}

/** Relative to the working directory when under it: reports and annotations name repository paths. */
export function displayPath(path: string): string {
  const relativePath = relative(process.cwd(), resolve(path))
  return relativePath && !relativePath.startsWith('..') ? relativePath : resolve(path)
}
