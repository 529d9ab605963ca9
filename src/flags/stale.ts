/**
 * Stale-flag hygiene. Pure: the flags, what evaluated them, what the code names, and "now" in;
 * findings out. A flag is stale when it has outlived its type's expected lifetime, when no SDK
 * ever evaluated it, or when code and flag definitions disagree (named in code but not defined,
 * defined but named nowhere).
 */
import type { FlagReference } from './scan.js'
import { FLAG_LIFETIME_DAYS, type FlagType } from './schema.js'

export type StaleRule = 'past-lifetime' | 'never-evaluated' | 'missing-definition' | 'unused-in-code'

export interface StaleFinding {
  flag: string
  rule: StaleRule
  message: string
  references?: Array<{ file: string; line: number }>
}

export interface StaleFlagInput {
  name: string
  type: string
  /** ISO date or date-time; absent when unknown. */
  createdAt?: string | undefined
  /** Yes + no evaluations seen; undefined when unknown. */
  evaluations?: number | undefined
  lastSeenAt?: string | undefined
  /** Flags it depends on: a parent with a live child is not stale (code asks for the child, SDKs evaluate the parent with it). */
  parents?: readonly string[] | undefined
}

export interface StaleInput {
  flags: readonly StaleFlagInput[]
  /** undefined: the code was not scanned. */
  references?: readonly FlagReference[] | undefined
  /** False when no evaluation data exists at all (no SDK ever reported): the rule is skipped, not applied to every flag. */
  evaluationsKnown: boolean
  now: Date
}

export interface StaleReport {
  findings: StaleFinding[]
  /** Rules that could not be applied, and why. */
  skipped: string[]
}

const DAY_MS = 86_400_000

export function findStaleFlags(input: StaleInput): StaleReport {
  const findings: StaleFinding[] = []
  const skipped: string[] = []
  for (const flag of input.flags) {
    const lifetime = FLAG_LIFETIME_DAYS[flag.type as FlagType]
    if (lifetime !== undefined && flag.createdAt) {
      const ageDays = Math.floor((input.now.getTime() - Date.parse(flag.createdAt)) / DAY_MS)
      if (ageDays > lifetime) {
        findings.push({
          flag: flag.name,
          rule: 'past-lifetime',
          message: `${flag.type} flag is ${ageDays} days old; ${flag.type} flags are expected to be removed within ${lifetime} days`,
        })
      }
    }
    if (input.evaluationsKnown && !flag.lastSeenAt && !flag.evaluations) {
      findings.push({ flag: flag.name, rule: 'never-evaluated', message: 'no SDK has reported evaluating it' })
    }
  }
  if (!input.evaluationsKnown)
    skipped.push('never-evaluated: no SDK has reported metrics yet (point an SDK at opsctl flags serve, or at Unleash)')

  if (input.references === undefined) {
    skipped.push('missing-definition, unused-in-code: the code was not scanned')
  } else {
    const defined = new Set(input.flags.map((flag) => flag.name))
    const byFlag = new Map<string, FlagReference[]>()
    for (const reference of input.references) byFlag.set(reference.flag, [...(byFlag.get(reference.flag) ?? []), reference])
    for (const [flag, references] of byFlag) {
      if (defined.has(flag)) continue
      const where = references.map((reference) => ({ file: reference.file, line: reference.line }))
      findings.push({
        flag,
        rule: 'missing-definition',
        message: `named in code (${where.map((at) => `${at.file}:${at.line}`).join(', ')}) but not defined`,
        references: where,
      })
    }
    for (const flag of input.flags) {
      if (!byFlag.has(flag.name))
        findings.push({ flag: flag.name, rule: 'unused-in-code', message: 'defined but no SDK call in the scanned code names it' })
    }
  }
  const kept = parentsOfLiveChildren(input.flags, findings)
  const remaining = findings.filter((finding) => !(kept.has(finding.flag) && PARENT_EXEMPT.has(finding.rule)))
  remaining.sort((a, b) => a.flag.localeCompare(b.flag) || a.rule.localeCompare(b.rule))
  return { findings: remaining, skipped }
}

/** What a parent is excused from while a child lives: its age, no evaluations of its own, no code naming it. */
const PARENT_EXEMPT = new Set<StaleRule>(['past-lifetime', 'never-evaluated', 'unused-in-code'])

/** Parents (transitively) of flags with no finding of their own. */
function parentsOfLiveChildren(flags: readonly StaleFlagInput[], findings: readonly StaleFinding[]): Set<string> {
  const stale = new Set(findings.map((finding) => finding.flag))
  const byName = new Map(flags.map((flag) => [flag.name, flag]))
  const kept = new Set<string>()
  const keep = (flag: StaleFlagInput) => {
    for (const parent of flag.parents ?? []) {
      if (kept.has(parent)) continue
      kept.add(parent)
      const next = byName.get(parent)
      if (next) keep(next)
    }
  }
  for (const flag of flags) if (!stale.has(flag.name)) keep(flag)
  return kept
}
