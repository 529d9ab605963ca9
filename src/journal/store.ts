import type { JournalEvent } from './event.js'
import type { JournalFilter } from './filter.js'

/** Something wrong in a store, by position: a file and line, or a table row. */
export interface Damage {
  location: string
  line?: number
  id?: string
  reason: string
}

export interface ReadOptions {
  /** Called for every damaged line or row that was skipped. */
  onDamage?: (damage: Damage) => void
  signal?: AbortSignal
}

export interface AppendOptions {
  /** Leave out events whose id the store already holds (journal copy). */
  skipExisting?: boolean
}

export interface AppendResult {
  appended: number
  skipped: number
}

export interface VerifyReport {
  store: JournalStore['kind']
  location: string
  /** Segment files, or the one table. */
  units: number
  /** Lines (files) or rows (PostgreSQL) looked at. */
  records: number
  events: number
  duplicates: number
  damaged: Damage[]
}

/** One journal, in files or in PostgreSQL. Events are identified by id in every store. */
export interface JournalStore {
  readonly kind: 'files' | 'postgresql'
  /** Where it is, without secrets. */
  readonly location: string
  /** All events or none become visible (one write, or one transaction). */
  append(events: readonly JournalEvent[], options?: AppendOptions): Promise<AppendResult>
  /** Events in id order, which is time order; damaged records are reported and skipped. */
  read(filter?: JournalFilter, options?: ReadOptions): AsyncIterable<JournalEvent>
  /** The events so far, then new ones as they are appended, until the signal aborts. */
  follow(filter?: JournalFilter, options?: ReadOptions): AsyncIterable<JournalEvent>
  verify(): Promise<VerifyReport>
  close(): Promise<void>
}
