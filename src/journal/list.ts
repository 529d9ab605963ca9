import { verdict, type Settings, type Verdict } from '../core/index.js'
import type { JournalEvent } from './event.js'
import type { JournalFilter } from './filter.js'
import { openJournal } from './open.js'
import type { Damage, VerifyReport } from './store.js'
import { describeDamage } from './render.js'

export interface ListOptions {
  follow?: boolean
  signal?: AbortSignal
  onEvent: (event: JournalEvent) => void | Promise<void>
  onDamage?: (damage: Damage) => void
}

/** `opsctl journal`: the configured journal's events in time order, then new ones with follow. */
export async function listJournal(
  settings: Settings,
  filter: JournalFilter,
  options: ListOptions,
): Promise<{ events: number; location: string }> {
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

/** The journal is whole, or the verdict lists (the first five of) what is damaged and where. */
export function verifyVerdict(report: VerifyReport, cwd = process.cwd()): Verdict {
  if (report.damaged.length === 0) return verdict('pass')
  const shown = report.damaged.slice(0, 5).map((damage) => describeDamage(damage, cwd))
  return verdict(
    'fail',
    [`${report.damaged.length} damaged in the journal: ${shown.join('; ')}${report.damaged.length > shown.length ? '; …' : ''}`],
    {
      hint: 'Reading skips damaged lines and keeps the events around them. A torn last line is an interrupted write; keep the file for the record, or delete the line by hand.',
    },
  )
}
