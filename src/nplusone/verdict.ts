import { verdict, type Verdict } from '../core/index.js'
import type { NPlusOneReport } from './types.js'

export interface NPlusOneBudgetEvidence {
  max: number
  patterns: number
  /** The fingerprints over the budget's allowance, in the report's order. */
  fingerprints: string[]
}

/**
 * The N+1 budget (`--max N`): more than `max` distinct patterns fails, naming each one with
 * its counts and worst occurrence. Without a budget every report passes.
 */
export function nplusoneVerdict(report: NPlusOneReport, max: number | undefined): Verdict<NPlusOneBudgetEvidence> {
  if (max === undefined) return verdict('pass')
  const found = report.patterns.length
  const evidence = { max, patterns: found, fingerprints: report.patterns.map((pattern) => pattern.fingerprint) }
  if (found <= max) return verdict('pass', [`${plural(found, 'N+1 pattern')}, within the budget of ${max}.`], { evidence })
  const reasons = [
    `Found ${plural(found, 'N+1 pattern')}, more than the budget of ${max}:`,
    ...report.patterns.map((pattern) => {
      const worst = pattern.worstUnit
      const where = worst.label ?? worst.id
      return `${pattern.fingerprint}  ${shorten(pattern.sql, 160)} (${plural(pattern.executions, 'execution')} in ${plural(pattern.units, 'unit')}, up to ${worst.count} in ${where})`
    }),
  ]
  return verdict('fail', reasons, {
    hint: 'Batch the repeated statements (see the fix of each pattern), or accept one with --ignore FINGERPRINT (or nplusone.ignore in opsctl.yaml).',
    evidence,
  })
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
