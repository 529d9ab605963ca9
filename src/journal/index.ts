// The ops journal: one append-only record of deploys, flag changes, verdicts, runs and incidents.
export { detectActor } from './actor.js'
export { appendEvents } from './append.js'
export { copyJournal } from './copy.js'
export { type JournalEvent } from './event.js'
export { parseJournalFilter, parseTimeBound } from './filter.js'
export { createIdGenerator, idTime } from './id.js'
export { defineEvents, eventFields, registeredEventKinds, summarizeEventData, type DefinedKind, type EventData } from './kinds.js'
export { listJournal, verifyJournal, verifyVerdict } from './list.js'
export { configuredJournalLocation, eventContext, journalOptions, openJournal, recordEvent } from './open.js'
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
export type { JournalStore, ReadOptions } from './store.js'
