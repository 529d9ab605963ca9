import type { Settings } from '../core/index.js'
import type { JournalEvent } from './event.js'
import type { JournalFilter } from './filter.js'
import { openJournal } from './open.js'
import type { Damage, VerifyReport } from './store.js'

export interface ListOptions {
  follow?: boolean
  signal?: AbortSignal
  onEvent: (event: JournalEvent) => void | Promise<void>
  onDamage?: (damage: Damage) => void
}

/** `opsctl journal`: the configured journal's events in time order, then new ones with follow. */
export async function listJournal(settings: Settings, filter: JournalFilter, options: ListOptions): Promise<{ events: number; location: string }> {
  const store = await openJournal(settings)
  let events = 0
  try {
    const source = options.follow ? store.follow(filter, options) : store.read(filter, options)
    for await (const event of source) {
      await options.onEvent(event)
      events++
      if (options.signal?.aborted) break
    }
  } finally {
    await store.close()
  }
  return { events, location: store.location }
}

export async function verifyJournal(settings: Settings): Promise<VerifyReport> {
  const store = await openJournal(settings)
  try {
    return await store.verify()
  } finally {
    await store.close()
  }
}
