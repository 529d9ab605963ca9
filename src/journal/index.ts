// The ops journal: one append-only record of deploys, flag changes, verdicts, runs and incidents.
export { detectActor, isCi } from './actor.js'
export { appendEvents, type AppendRequest, type AppendSummary, type FlagEvent } from './append.js'
export { copyJournal, type CopySummary } from './copy.js'
export {
  JOURNAL_SCHEMA_VERSION,
  MAX_EVENT_BYTES,
  buildEvent,
  canonicalJson,
  eventInputSchema,
  journalEventSchema,
  redactEvent,
  type EventContext,
  type EventInput,
  type JournalEvent,
} from './event.js'
export { FileJournal, LOCK_FILE_NAME } from './file-store.js'
export { withFileLock } from './file-lock.js'
export { kindMatches, matchesFilter, parseJournalFilter, parseTimeBound, type JournalFilter } from './filter.js'
export { EVENT_ID_PATTERN, createIdGenerator, idTime, isEventId, type IdGenerator } from './id.js'
export { LineSplitter, type InputLine } from './input.js'
export { eventKinds, findEventKind, isAcceptedKind, kindNamespaces, summarizeEventData, type EventKind } from './kinds.js'
export { checksumOf, decodeLine, encodeLine, salvageLine } from './line.js'
export { listJournal, verifyJournal } from './list.js'
export {
  configuredJournalLocation,
  eventContext,
  isPostgresLocation,
  journalOptions,
  openJournal,
  openJournalAt,
  recordEvent,
  type JournalLocationOptions,
} from './open.js'
export { JOURNAL_TABLE, PgJournal } from './pg-store.js'
export {
  createLineWriter,
  describeAppend,
  describeDamage,
  formatEvent,
  formatEventJson,
  renderCopySummary,
  renderVerifyReport,
  summarizeEvent,
} from './render.js'
export type { AppendOptions, AppendResult, Damage, JournalStore, ReadOptions, VerifyReport } from './store.js'
