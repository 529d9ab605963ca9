import { verdict, type Verdict } from '../core/index.js'
import type { ActivitySnapshot, FindingKind } from './model.js'

/**
 * Findings are information: a snapshot passes. With --fail-on, a finding of one of those kinds
 * fails it (for a CI step or a cron check that should page).
 */
export function activityVerdict(snapshot: Pick<ActivitySnapshot, 'findings'>, failOn: readonly FindingKind[]): Verdict {
  const failing = snapshot.findings.filter((finding) => failOn.includes(finding.kind))
  if (failing.length === 0) return verdict('pass')
  return verdict(
    'fail',
    failing.map((finding) => `${finding.kind}: ${finding.message}`),
    { hint: failing[0]!.advice, evidence: { kinds: [...new Set(failing.map((finding) => finding.kind))] } },
  )
}
