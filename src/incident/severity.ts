import { badInput } from '../core/index.js'

/** SEV1 is the worst. Definitions follow PagerDuty's incident response guide, shortened. */
export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4', 'SEV5'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface SeverityDefinition {
  severity: Severity
  name: string
  definition: string
  response: string
}

export const SEVERITY_DEFINITIONS: readonly SeverityDefinition[] = [
  {
    severity: 'SEV1',
    name: 'critical',
    definition: 'The service is down or unusable for most users, data is being lost or corrupted, or a security breach is under way.',
    response: 'Page the on-call and an incident commander now; all hands; public status updates; a post-mortem is required.',
  },
  {
    severity: 'SEV2',
    name: 'major',
    definition: 'A core function is broken or badly degraded for many users (errors or latency far outside the SLO), with no workaround.',
    response: 'Page the on-call; name a commander; status updates; a post-mortem is required.',
  },
  {
    severity: 'SEV3',
    name: 'minor',
    definition: 'Degraded for some users, or a non-core function broken; a workaround exists; the SLO error budget is burning.',
    response: 'The on-call handles it in working hours (page out of hours only if it grows); a post-mortem is recommended.',
  },
  {
    severity: 'SEV4',
    name: 'low',
    definition: 'Little or no user impact yet, but action is needed: lost redundancy, one customer affected, a capacity warning.',
    response: 'A ticket for the owning team; a post-mortem is optional.',
  },
  {
    severity: 'SEV5',
    name: 'informational',
    definition: 'No user impact: a near miss, a cosmetic bug, internal tooling, or an exercise of the incident process.',
    response: 'Record it for learning; a short review instead of a post-mortem.',
  },
]

const BY_NAME = new Map(SEVERITY_DEFINITIONS.map((entry) => [entry.name, entry.severity]))

/** `2`, `sev2`, `SEV-2`, `p2`, or the name the help shows (`major`) -> `SEV2`; anything else is bad input. */
export function parseSeverity(text: string, what = '--sev'): Severity {
  const severity = readSeverity(text) ?? BY_NAME.get(text.trim().toLowerCase())
  if (!severity)
    throw badInput(
      `Invalid severity "${text}" for ${what}`,
      `Give 1 to 5 or its name (SEV1 is the worst): ${SEVERITY_DEFINITIONS.map((entry) => `${entry.severity.slice(3)} ${entry.name}`).join(', ')}.`,
    )
  return severity
}

/** A severity from the journal, which may hold anything a person appended: unknown ones read as undefined. */
export function readSeverity(value: unknown): Severity | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  const match = /^(?:sev-?|p)?([1-5])$/i.exec(String(value).trim())
  return match ? (`SEV${match[1]}` as Severity) : undefined
}

/** How alert labels become severities (the config section `incident`). */
export interface SeverityMapping {
  /** The label read: `severity`. */
  label: string
  /** Label values (any case) per severity. */
  values: Readonly<Record<Severity, readonly string[]>>
  /** When no alert carries a value of the map. */
  unlabelled: Severity
}

/** A label value to its severity: `sev1`…`sev5` and `p1`…`p5` always, then the configured values. */
export function severityFromLabel(value: string, mapping: SeverityMapping): Severity | undefined {
  const direct = readSeverity(value)
  if (direct) return direct
  const wanted = value.trim().toLowerCase()
  return SEVERITIES.find((severity) => mapping.values[severity].some((candidate) => candidate.trim().toLowerCase() === wanted))
}

export function severityDefinition(severity: Severity): SeverityDefinition {
  return SEVERITY_DEFINITIONS.find((entry) => entry.severity === severity)!
}

/** The text `incident start --help` shows. */
export function severityHelp(): string {
  return SEVERITY_DEFINITIONS.map((entry) => `${entry.severity} (${entry.name}): ${entry.definition}`).join('\n')
}

/** `SEV1 (critical)`. */
export function severityLabel(severity: Severity): string {
  return `${severity} (${severityDefinition(severity).name})`
}

/** Lower number is worse. */
export function severityRank(severity: Severity): number {
  return Number(severity.slice(3))
}
