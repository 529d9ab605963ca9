import { badInput, formatBytes, type Settings } from '../core/index.js'
import { MAX_EVENT_BYTES, buildEvent, type EventContext, type JournalEvent } from './event.js'
import { LineSplitter, type InputLine } from './input.js'
import { eventContext, openJournal, type RecordOptions } from './open.js'
import type { JournalStore } from './store.js'

/** One event described by flags: `--kind note --subject api --message "…" --data '{…}' --link incident=INC-1`. */
export interface FlagEvent {
  kind: string
  subject?: string | undefined
  message?: string | undefined
  data?: string | undefined
  links?: string[] | undefined
}

export interface AppendRequest {
  /** One event from flags, or JSON lines (stdin). */
  event?: FlagEvent
  lines?: AsyncIterable<Buffer | string>
  /** Append each part of the input as it arrives instead of validating all of it first. */
  stream?: boolean
  /** Events per write (and per acknowledgement). */
  chunk?: number
}

export interface AppendHooks extends RecordOptions {
  /** Called once events are written (and flushed when durable): their ids are acknowledged. */
  onAck?: (events: readonly JournalEvent[]) => void
}

export interface AppendSummary {
  store: JournalStore['kind']
  location: string
  durable: boolean
  appended: number
  /** Events whose id the journal already held. */
  skipped: number
  ids: string[]
}

export const DEFAULT_CHUNK = 1000
const CHUNK_BYTES = 8 * 1024 * 1024
const MAX_REPORTED = 20

/**
 * `journal append`. Without --stream the whole input is validated first and nothing of a refused
 * input is written; the events then go out in chunks (one atomic write or transaction each),
 * each acknowledged once durable, so after a crash every acknowledged event is there. With
 * --stream each part of the input is written as it arrives, up to the first bad line.
 */
export async function appendEvents(settings: Settings, request: AppendRequest, hooks: AppendHooks = {}): Promise<AppendSummary> {
  const context = eventContext(hooks)
  const chunk = Math.max(1, request.chunk ?? DEFAULT_CHUNK)
  if (request.event) {
    const event = eventFromFlags(request.event, settings.config.service.name, context)
    return withStore(settings, async (store, summary) => write(store, [event], chunk, summary, hooks))
  }
  if (!request.lines) throw badInput('Nothing to append', 'Give --kind and --subject, or pipe JSON lines to --stdin.')
  if (request.stream) return withStore(settings, (store, summary) => streamLines(request.lines!, context, store, chunk, summary, hooks))

  const events: JournalEvent[] = []
  const problems: string[] = []
  let problemCount = 0
  let ownIds = false
  const take = (input: InputLine) => {
    const checked = eventFromLine(input, context)
    if (checked === undefined) return
    if (typeof checked === 'string') {
      if (++problemCount <= MAX_REPORTED) problems.push(checked)
      return
    }
    ownIds ||= checked.own
    events.push(checked.event)
  }
  const splitter = new LineSplitter()
  for await (const part of request.lines) for (const input of splitter.push(part)) take(input)
  for (const input of splitter.end()) take(input)
  if (problemCount > 0) {
    const more = problemCount > problems.length ? `\n  … and ${problemCount - problems.length} more` : ''
    throw badInput(
      `Refused the input: ${problemCount} bad line${problemCount === 1 ? '' : 's'}, nothing was written.\n  ${problems.join('\n  ')}${more}`,
      'Each line is one JSON event: {"kind":"note","subject":"api","data":{"message":"…"}}. See opsctl journal append --help.',
    )
  }
  if (events.length === 0)
    throw badInput(
      'No events on stdin',
      'Pipe JSON lines such as {"kind":"note","subject":"api","data":{"message":"deployed"}}, or give --kind.',
    )
  // Ids given in the input (an import, a retried CI step) are checked against the journal.
  return withStore(settings, async (store, summary) => write(store, events, chunk, summary, hooks, ownIds))
}

async function withStore(
  settings: Settings,
  action: (store: JournalStore, summary: AppendSummary) => Promise<void>,
): Promise<AppendSummary> {
  const store = await openJournal(settings)
  const summary: AppendSummary = {
    store: store.kind,
    location: store.location,
    durable: settings.config.journal.durable,
    appended: 0,
    skipped: 0,
    ids: [],
  }
  try {
    await action(store, summary)
  } finally {
    await store.close()
  }
  return summary
}

async function write(
  store: JournalStore,
  events: readonly JournalEvent[],
  chunk: number,
  summary: AppendSummary,
  hooks: AppendHooks,
  skipExisting = false,
): Promise<void> {
  let start = 0
  while (start < events.length) {
    let end = start
    let bytes = 0
    while (end < events.length && end - start < chunk && (end === start || bytes < CHUNK_BYTES)) bytes += approximateSize(events[end++]!)
    const part = events.slice(start, end)
    const result = await store.append(part, { skipExisting })
    summary.appended += result.appended
    summary.skipped += result.skipped
    for (const event of part) summary.ids.push(event.id)
    hooks.onAck?.(part)
    start = end
  }
}

async function streamLines(
  lines: AsyncIterable<Buffer | string>,
  context: EventContext,
  store: JournalStore,
  chunk: number,
  summary: AppendSummary,
  hooks: AppendHooks,
): Promise<void> {
  const splitter = new LineSplitter()
  let pending: JournalEvent[] = []
  let ownIds = false
  const flush = async () => {
    if (pending.length === 0) return
    const part = pending
    pending = []
    await write(store, part, chunk, summary, hooks, ownIds)
    ownIds = false
  }
  const take = async (input: InputLine) => {
    const checked = eventFromLine(input, context)
    if (checked === undefined) return
    if (typeof checked === 'string') {
      await flush()
      throw badInput(
        `Stopped at a bad line: ${checked}. The ${summary.appended} event${summary.appended === 1 ? '' : 's'} before it ${summary.appended === 1 ? 'was' : 'were'} written; nothing after it.`,
        'Fix the line and append the rest from there; without --stream, a bad line refuses the whole input.',
      )
    }
    ownIds ||= checked.own
    pending.push(checked.event)
    if (pending.length >= chunk) await flush()
  }
  for await (const part of lines) {
    for (const input of splitter.push(part)) await take(input)
    await flush() // what has arrived is written before waiting for more
  }
  for (const input of splitter.end()) await take(input)
  await flush()
}

/** undefined for a blank line, a message for a bad one. */
function eventFromLine(input: InputLine, context: EventContext): { event: JournalEvent; own: boolean } | string | undefined {
  if (input.tooLong) return `line ${input.line}: longer than ${formatBytes(MAX_EVENT_BYTES)}`
  const text = input.text ?? ''
  if (text.trim() === '') return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return `line ${input.line}: not valid JSON (${(error as Error).message})`
  }
  const built = buildEvent(value, context)
  if (!built.ok) return `line ${input.line}: ${built.reason}`
  return { event: built.value, own: typeof (value as { id?: unknown }).id === 'string' }
}

function eventFromFlags(flags: FlagEvent, defaultSubject: string, context: EventContext): JournalEvent {
  let data: Record<string, unknown> = {}
  if (flags.data !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(flags.data)
    } catch (error) {
      throw badInput(`--data is not valid JSON: ${(error as Error).message}`, `Quote it for the shell: --data '{"key":1}'.`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw badInput('--data must be a JSON object', `For example --data '{"key":1}'.`)
    data = parsed as Record<string, unknown>
  }
  if (flags.message !== undefined) data = { ...data, message: flags.message }
  const links: Record<string, string> = {}
  for (const link of flags.links ?? []) {
    const match = /^([^=]+)=(.+)$/.exec(link)
    if (!match) throw badInput(`Invalid --link "${link}"`, 'Write NAME=VALUE, such as --link incident=INC-1 or --link commit=3f2a9c1.')
    links[match[1]!.trim()] = match[2]!.trim()
  }
  const built = buildEvent({ kind: flags.kind, subject: flags.subject ?? defaultSubject, data, links }, context)
  if (!built.ok)
    throw badInput(`Cannot append the event: ${built.reason}`, 'See opsctl journal append --help for the kinds and their data.')
  return built.value
}

function approximateSize(event: JournalEvent): number {
  return 200 + event.subject.length + JSON.stringify(event.data).length
}
