import { badInput, parseDuration, type Clock } from '../core/index.js'
import type { JournalEvent } from './event.js'
import { KIND_PATTERN } from './kinds.js'

/** Which events to list. Times are milliseconds since the epoch; since inclusive, until exclusive. */
export interface JournalFilter {
  since?: number
  until?: number
  /** Kinds or namespaces: `deploy` matches `deploy.*`, `deploy.step` only itself. */
  kinds?: string[]
  subjects?: string[]
}

export interface FilterOptions {
  since?: string | undefined
  until?: string | undefined
  kind?: string[] | undefined
  subject?: string[] | undefined
}

/** `--since 2h` (a duration back from now) or `--since 2024-05-01T10:00:00Z` (an ISO time). */
export function parseTimeBound(text: string, clock: Clock, flag: string): number {
  const trimmed = text.trim()
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const time = Date.parse(trimmed)
    if (Number.isNaN(time))
      throw badInput(`Invalid time "${text}" for --${flag}`, 'Use an ISO 8601 time such as 2024-05-01T10:00:00Z, or a duration such as 2h.')
    return time
  }
  return clock.now().getTime() - parseDuration(trimmed, `--${flag}`)
}

export function parseJournalFilter(options: FilterOptions, clock: Clock): JournalFilter {
  const filter: JournalFilter = {}
  if (options.since) filter.since = parseTimeBound(options.since, clock, 'since')
  if (options.until) filter.until = parseTimeBound(options.until, clock, 'until')
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw badInput('--since must be before --until', 'Swap them, or drop one.')
  }
  const kinds = (options.kind ?? []).map((kind) => kind.trim().replace(/\.\*$/, '')).filter(Boolean)
  for (const kind of kinds) {
    if (!KIND_PATTERN.test(kind))
      throw badInput(`Invalid kind "${kind}" for --kind`, 'Give kinds or namespaces such as deploy, deploy.step or incident.')
  }
  if (kinds.length > 0) filter.kinds = [...new Set(kinds)]
  const subjects = (options.subject ?? []).map((subject) => subject.trim()).filter(Boolean)
  if (subjects.length > 0) filter.subjects = [...new Set(subjects)]
  return filter
}

export function kindMatches(kind: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => kind === pattern || (kind.startsWith(pattern) && kind[pattern.length] === '.'))
}

export function matchesFilter(event: JournalEvent, filter: JournalFilter): boolean {
  if (filter.subjects && !filter.subjects.includes(event.subject)) return false
  return matchesKindAndTime(event, filter)
}

/** The part of a filter that id, time and kind decide (what a line's head tells without parsing). */
export function matchesKindAndTime(event: Pick<JournalEvent, 'kind' | 'time'>, filter: JournalFilter): boolean {
  if (filter.kinds && !kindMatches(event.kind, filter.kinds)) return false
  if (filter.since !== undefined || filter.until !== undefined) {
    const time = Date.parse(event.time)
    if (filter.since !== undefined && time < filter.since) return false
    if (filter.until !== undefined && time >= filter.until) return false
  }
  return true
}
