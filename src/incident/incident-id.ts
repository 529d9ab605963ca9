import { badInput } from '../core/index.js'
import { idTime } from '../journal/index.js'

/**
 * Incident ids are read aloud on calls: `INC-20261125-7KQ2`, the UTC day and the first random
 * characters of the ULID of the `incident.opened` event. The ULID's 80 random bits are what keep
 * two terminals declaring at the same moment apart, without a lock or a counter (which the
 * PostgreSQL journal could not hand out race-free); an id already taken gets more characters.
 */
const RANDOM_START = 10
const SHORT = 4

export function incidentIdFor(eventId: string, taken: ReadonlySet<string> = new Set()): string {
  const day = new Date(idTime(eventId)).toISOString().slice(0, 10).replaceAll('-', '')
  for (let length = SHORT; length <= eventId.length - RANDOM_START; length++) {
    const candidate = `INC-${day}-${eventId.slice(RANDOM_START, RANDOM_START + length)}`
    if (!taken.has(candidate.toUpperCase())) return candidate
  }
  return `INC-${day}-${eventId.slice(RANDOM_START)}-${eventId.slice(0, RANDOM_START)}`
}

export interface IncidentRef {
  id: string
}

/**
 * What a responder typed, to one incident: the id (any case), or its last part alone (`7KQ2`)
 * when only one incident ends that way.
 */
export function findIncidentByRef<T extends IncidentRef>(incidents: readonly T[], ref: string): T {
  const wanted = ref.trim().toUpperCase()
  if (!wanted) throw badInput('An empty incident id', 'Give an id as opsctl incident list shows it.')
  const exact = incidents.find((incident) => incident.id.toUpperCase() === wanted)
  if (exact) return exact
  const bySuffix = incidents.filter((incident) => incident.id.toUpperCase().endsWith(`-${wanted}`))
  if (bySuffix.length === 1) return bySuffix[0]!
  if (bySuffix.length > 1) {
    throw badInput(
      `"${ref}" matches ${bySuffix.length} incidents: ${bySuffix.map((incident) => incident.id).join(', ')}`,
      'Give the whole id.',
    )
  }
  throw badInput(`No incident "${ref}" in the journal`, 'List them with opsctl incident list.')
}
