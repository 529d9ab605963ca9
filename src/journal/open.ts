import { userInfo } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { badInput, parseSize, systemClock, type Clock, type Settings } from '../core/index.js'
import { detectActor } from './actor.js'
import { buildEvent, type EventContext, type EventInput, type JournalEvent } from './event.js'
import { FileJournal } from './file-store.js'
import { createIdGenerator } from './id.js'
import { PgJournal } from './pg-store.js'
import type { JournalStore } from './store.js'

export interface JournalLocationOptions {
  durable: boolean
  /** Bytes. */
  segmentSize: number
  /** Relative directories are resolved against it (default: the working directory). */
  baseDir?: string
}

/** One generator per process, so that ids of this process are strictly increasing. */
const processIds = createIdGenerator()

/** The configured journal: PostgreSQL at journal.url (OPSCTL_JOURNAL_URL), else the files in journal.dir. */
export async function openJournal(settings: Settings): Promise<JournalStore> {
  return openJournalAt(configuredJournalLocation(settings), { ...journalOptions(settings), baseDir: settings.rootDir })
}

/** journal.url, or the journal directory (journal.dir relative to opsctl.yaml, default .opsctl/journal). */
export function configuredJournalLocation(settings: Settings): string {
  const { url, dir } = settings.config.journal
  if (url) return url
  if (!dir) return join(settings.stateDir, 'journal')
  return isAbsolute(dir) ? dir : resolve(settings.rootDir, dir)
}

export function journalOptions(settings: Settings): JournalLocationOptions {
  return { durable: settings.config.journal.durable, segmentSize: parseSize(settings.config.journal.segmentSize, 'journal.segmentSize') }
}

export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location)
}

/** A journal at a PostgreSQL URL or a directory, as `journal copy --from/--to` take them. */
export async function openJournalAt(location: string, options: JournalLocationOptions): Promise<JournalStore> {
  if (isPostgresLocation(location)) return PgJournal.open({ url: location, durable: options.durable })
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw badInput(`Unsupported journal location "${location}"`, 'Give a postgres:// URL or a directory.')
  }
  if (options.segmentSize < 1024) throw badInput(`journal.segmentSize must be at least 1kB, not ${options.segmentSize} bytes`)
  return new FileJournal({
    dir: resolve(options.baseDir ?? process.cwd(), location),
    durable: options.durable,
    segmentSize: options.segmentSize,
  })
}

export interface RecordOptions {
  clock?: Clock
  env?: NodeJS.ProcessEnv
}

/** Who and when for events written by this process: the actor from the environment, ids from the process generator. */
export function eventContext(options: RecordOptions = {}): EventContext {
  return { clock: options.clock ?? systemClock, actor: detectActor(options.env ?? process.env, loginName()), ids: processIds }
}

/**
 * The API other modules record with: validates the event against its kind, fills id, time and
 * actor, redacts secrets, and appends it (durably, unless journal.durable is false).
 */
export async function recordEvent(
  target: JournalStore | Settings,
  input: Pick<EventInput, 'kind' | 'subject' | 'data' | 'links'> & Partial<EventInput>,
  options: RecordOptions = {},
): Promise<JournalEvent> {
  const built = buildEvent(input, eventContext(options))
  if (!built.ok) throw badInput(`Cannot record a ${input.kind} event: ${built.reason}`)
  if (isStore(target)) {
    await target.append([built.value])
  } else {
    const store = await openJournal(target)
    try {
      await store.append([built.value])
    } finally {
      await store.close()
    }
  }
  return built.value
}

function isStore(target: JournalStore | Settings): target is JournalStore {
  return typeof (target as JournalStore).append === 'function'
}

function loginName(): string | undefined {
  try {
    return userInfo().username
  } catch {
    return undefined // no passwd entry (some containers)
  }
}
