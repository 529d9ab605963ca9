import { ExitCode } from './errors.js'

/**
 * The one shape every check, budget, comparison and judge returns: the load thresholds, the N+1
 * budget, a plan diff, the canary judge, the CI gate. Modules return it; commands hand it to
 * `OpsCommand.conclude`, the one place that turns it into an exit code and a line on stderr.
 *
 * - pass: within budget.
 * - fail: a check failed (exit 1).
 * - inconclusive: not enough evidence to pass (exit 1: never a silent pass).
 * - invalid: the measurement itself cannot be trusted (load generator saturated, too few samples,
 *   runs disagreeing with each other) (exit 4).
 */
export type VerdictStatus = 'pass' | 'fail' | 'inconclusive' | 'invalid'

export interface Verdict<Evidence = unknown> {
  status: VerdictStatus
  /** One line each, saying why (empty on a plain pass). */
  reasons: string[]
  /** What the user can do about a failure, printed as "Try: ...". */
  hint?: string
  /** The numbers behind the verdict, for reports and the journal. */
  evidence?: Evidence
}

const EXIT_OF: Record<VerdictStatus, ExitCode> = {
  pass: ExitCode.Ok,
  fail: ExitCode.CheckFailed,
  inconclusive: ExitCode.CheckFailed,
  invalid: ExitCode.InvalidMeasurement,
}

/** Worst first: combining verdicts keeps the worst status. */
const SEVERITY: Record<VerdictStatus, number> = { pass: 0, inconclusive: 1, fail: 2, invalid: 3 }

export function verdict<Evidence = unknown>(
  status: VerdictStatus,
  reasons: string[] = [],
  extra: { hint?: string; evidence?: Evidence } = {},
): Verdict<Evidence> {
  return {
    status,
    reasons,
    ...(extra.hint === undefined ? {} : { hint: extra.hint }),
    ...(extra.evidence === undefined ? {} : { evidence: extra.evidence }),
  }
}

export const pass = (reasons: string[] = []): Verdict => verdict('pass', reasons)

export function exitCodeOf(outcome: Verdict | VerdictStatus): ExitCode {
  return EXIT_OF[typeof outcome === 'string' ? outcome : outcome.status]
}

/**
 * Several verdicts as one: the worst status wins and the reasons of every verdict that shares it
 * are kept (a gate failing two checks names both). No verdicts at all is a pass.
 */
export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return verdict('pass')
  const worst = verdicts.reduce((a, b) => (SEVERITY[b.status] > SEVERITY[a.status] ? b : a))
  const same = verdicts.filter((item) => item.status === worst.status)
  const hints = [...new Set(same.map((item) => item.hint).filter((hint): hint is string => Boolean(hint)))]
  return verdict(
    worst.status,
    same.flatMap((item) => item.reasons),
    hints.length > 0 ? { hint: hints.join(' ') } : {},
  )
}

/** How a verdict reads at the start of a line for people. */
export function verdictLabel(status: VerdictStatus): string {
  return { pass: 'Passed', fail: 'Failed', inconclusive: 'Inconclusive', invalid: 'Invalid measurement' }[status]
}
