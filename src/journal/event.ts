import { z } from 'zod'
import { REDACTED, redactText, redactValue, type Clock } from '../core/index.js'
import { EVENT_ID_PATTERN, idTime, type IdGenerator } from './id.js'
import { KIND_PATTERN, findEventKind, isAcceptedKind, kindNamespaces } from './kinds.js'

/** Version of the envelope below; readers accept newer versions and keep their extra fields. */
export const JOURNAL_SCHEMA_VERSION = 1

/** An input line, or an event's JSON as written, above this is refused: 1 MiB. */
export const MAX_EVENT_BYTES = 1024 * 1024

const linkName = z.string().regex(/^[a-z][a-zA-Z0-9_-]{0,63}$/, 'a link name is lowercase letters, digits, - and _')
const isoUtc = z.iso.datetime({ offset: false, precision: 3 })

/** The envelope as written: every field present, time in UTC with milliseconds. */
export const journalEventSchema = z.strictObject({
  v: z.literal(JOURNAL_SCHEMA_VERSION),
  id: z.string().regex(EVENT_ID_PATTERN, 'an event id is a ULID'),
  time: isoUtc,
  kind: z.string().regex(KIND_PATTERN, 'a kind is namespaced: area.what'),
  actor: z.string().min(1).max(300),
  subject: z.string().min(1).max(300),
  links: z.record(linkName, z.string().min(1).max(1000)),
  data: z.record(z.string(), z.unknown()),
})

export type JournalEvent = z.infer<typeof journalEventSchema>

/** What writers (append, recordEvent) give: id, time and actor are filled in when absent. */
export const eventInputSchema = z.strictObject({
  v: z.literal(JOURNAL_SCHEMA_VERSION).optional(),
  id: z.string().regex(EVENT_ID_PATTERN, 'an event id is a ULID').optional(),
  time: z.iso.datetime({ offset: true }).optional(),
  kind: z.string().min(1),
  actor: z.string().min(1).max(300).optional(),
  subject: z.string().min(1).max(300),
  links: z.record(linkName, z.string().min(1).max(1000)).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
})

export type EventInput = z.input<typeof eventInputSchema>

export interface EventContext {
  clock: Clock
  actor: string
  ids: IdGenerator
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string }

/** Validates one input event (envelope, kind, the kind's data) and completes it; nothing thrown. */
export function buildEvent(value: unknown, context: EventContext): Checked<JournalEvent> {
  const parsed = eventInputSchema.safeParse(value)
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error.issues) }
  const input = parsed.data
  if (!isAcceptedKind(input.kind)) {
    return { ok: false, reason: `unknown kind "${input.kind}" (namespaces: ${kindNamespaces().join(', ')}; your own kinds go under x.)` }
  }
  const data = toJson(input.data ?? {})
  const schema = findEventKind(input.kind)?.data
  if (schema) {
    const checked = schema.safeParse(data)
    if (!checked.success) return { ok: false, reason: describeIssues(checked.error.issues, ['data']) }
  }
  const nul = findNul({ subject: input.subject, links: input.links, data, actor: input.actor })
  if (nul) return { ok: false, reason: `${nul} contains a NUL character, which the PostgreSQL journal cannot store` }

  // An id given without a time (an import) keeps the time the id was made at.
  const time = input.time ? new Date(input.time) : input.id ? new Date(idTime(input.id)) : context.clock.now()
  const event: JournalEvent = {
    v: JOURNAL_SCHEMA_VERSION,
    // an event with a time of its own gets an id of that time, so listings order it by when it happened
    id: input.id ?? (input.time ? context.ids.at(time.getTime()) : context.ids.next(time.getTime())),
    time: time.toISOString(),
    kind: input.kind,
    actor: input.actor ?? context.actor,
    subject: input.subject,
    links: input.links ?? {},
    data,
  }
  const redacted = redactEvent(event)
  if (Buffer.byteLength(canonicalJson(redacted)) > MAX_EVENT_BYTES)
    return { ok: false, reason: 'the event is larger than 1 MiB once written' }
  return { ok: true, value: redacted }
}

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/**
 * Checks an event read back from a store: the envelope of this or a newer version (whose extra
 * fields are kept). By hand rather than with zod: it runs for every line of every listing.
 */
export function checkStoredEvent(value: unknown): Checked<JournalEvent> {
  const problem = storedEventProblem(value)
  return problem ? { ok: false, reason: `not a journal event: ${problem}` } : { ok: true, value: value as JournalEvent }
}

function storedEventProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an object'
  const event = value as Record<string, unknown>
  if (typeof event.v !== 'number' || !Number.isInteger(event.v) || event.v < 1) return 'v: expected the schema version'
  if (typeof event.id !== 'string' || !EVENT_ID_PATTERN.test(event.id)) return 'id: expected a ULID'
  if (typeof event.time !== 'string' || !ISO_UTC_MS.test(event.time) || Number.isNaN(Date.parse(event.time)))
    return 'time: expected an ISO 8601 UTC time'
  if (typeof event.kind !== 'string' || !KIND_PATTERN.test(event.kind)) return 'kind: expected a namespaced kind'
  if (typeof event.actor !== 'string' || event.actor === '') return 'actor: expected a string'
  if (typeof event.subject !== 'string' || event.subject === '') return 'subject: expected a string'
  if (!isObject(event.links) || Object.values(event.links).some((link) => typeof link !== 'string'))
    return 'links: expected names to strings'
  if (!isObject(event.data)) return 'data: expected an object'
  return undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * The one serialization checksums are taken over: the envelope in a fixed order, object keys
 * of links and data sorted at every depth. Stable across a PostgreSQL jsonb round trip.
 */
export function canonicalJson(event: JournalEvent): string {
  const { v, id, time, kind, actor, subject, links, data, ...newer } = event as JournalEvent & Record<string, unknown>
  return JSON.stringify({ v, id, time, kind, actor, subject, links: sortKeys(links), data: sortKeys(data), ...(sortKeys(newer) as object) })
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
  return out
}

// --- redaction -------------------------------------------------------------

const QUERY_IN_URL = /\b([a-z][a-z0-9+.-]*:\/\/[^\s?#"']*\?)([^\s#"']*)/gi
const SQL_PARAMETER_KEY = /^(params|parameters|bind|binds|bindings|bindParams|queryParams|queryParameters)$/i

/**
 * Secrets and query parameter values never reach the journal: core's redaction (passwords in
 * URLs, tokens, secret-named keys), every query parameter value of a URL (`?limit=***`), and
 * SQL bind parameters under keys such as `params`.
 */
export function redactEvent(event: JournalEvent): JournalEvent {
  return {
    ...event,
    actor: redactText(event.actor),
    subject: redactStrings(event.subject) as string,
    links: redactStrings(redactValue(event.links)) as Record<string, string>,
    data: redactStrings(redactSqlParameters(redactValue(event.data))) as Record<string, unknown>,
  }
}

function redactStrings(value: unknown): unknown {
  if (typeof value === 'string') {
    return redactText(value).replace(
      QUERY_IN_URL,
      (_all, base: string, query: string) =>
        base + query.replace(/(^|&)([^=&]*)=[^&]*/g, (_pair, sep: string, key: string) => `${sep}${key}=${REDACTED}`),
    )
  }
  if (Array.isArray(value)) return value.map(redactStrings)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item)]))
}

function redactSqlParameters(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSqlParameters)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SQL_PARAMETER_KEY.test(key) && item !== null && typeof item === 'object' ? REDACTED : redactSqlParameters(item),
    ]),
  )
}

// --- helpers ---------------------------------------------------------------

/** JSON-only data: Dates become strings, undefined and functions disappear, as in a file. */
function toJson(data: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(data)) as Record<string, unknown>
}

function findNul(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'a value' : undefined
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return path ? `${path}.${key}` : key
    const found = findNul(item, path ? `${path}.${key}` : key)
    if (found) return found
  }
  return undefined
}

/** zod issues as one short sentence a user can act on: `missing field "subject"`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: string[] = []): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const path = [...prefix, ...issue.path.map(String)].join('.')
      if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `missing field "${path}"`
      if (issue.code === 'unrecognized_keys')
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${[...prefix, ...issue.path.map(String), key].join('.')}"`).join(', ')}`
      return `${path || 'event'}: ${issue.message.replace(/^Invalid input: /, '')}`
    })
    .join('; ')
}
