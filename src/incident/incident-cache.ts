/**
 * The incidents as a long-running process (the receiver) keeps them: the journal read from where
 * it last was, and only the incidents with new events replayed again. A delivery then costs what
 * is new in the journal, not the whole of it. Events appended by anyone are picked up on the next
 * read; an event backdated by more than LOOKBACK_MS (an import with old times) is seen after a
 * restart.
 */
import type { JournalEvent, JournalStore } from '../journal/index.js'
import { incidentKeyOf, replayIncident, type Incident, type Replay } from './state.js'

export const INCIDENT_KINDS = ['incident', 'runbook']
/** How far before the newest event already read the next read starts: writers' clocks and ids disagree a little. */
export const LOOKBACK_MS = 5 * 60_000

export class IncidentCache {
  private readonly seen = new Set<string>()
  private readonly byIncident = new Map<string, JournalEvent[]>()
  private readonly replayed = new Map<string, Incident | undefined>()
  private readonly dirty = new Set<string>()
  private newest = Number.NEGATIVE_INFINITY

  /** An event this process wrote: known at once, without reading it back. */
  add(event: JournalEvent): void {
    if (this.seen.has(event.id)) return
    this.seen.add(event.id)
    this.newest = Math.max(this.newest, Date.parse(event.time))
    const key = incidentKeyOf(event)
    if (!key) return
    const list = this.byIncident.get(key)
    if (list) list.push(event)
    else this.byIncident.set(key, [event])
    this.dirty.add(key)
  }

  /** What the journal holds now, replayed; incidents without new events are not replayed again. */
  async read(store: JournalStore): Promise<Replay> {
    const since = Number.isFinite(this.newest) ? this.newest - LOOKBACK_MS : undefined
    for await (const event of store.read({ kinds: INCIDENT_KINDS, ...(since === undefined ? {} : { since }) })) this.add(event)
    for (const key of this.dirty) {
      const events = this.byIncident.get(key)!
      events.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      this.replayed.set(key, replayIncident(key, events))
    }
    this.dirty.clear()
    const incidents: Incident[] = []
    const orphans: Replay['orphans'] = []
    for (const [key, incident] of this.replayed) {
      if (incident) incidents.push(incident)
      else orphans.push({ id: key, events: this.byIncident.get(key)!.length })
    }
    incidents.sort((a, b) => (a.openEventId < b.openEventId ? -1 : a.openEventId > b.openEventId ? 1 : 0))
    return { incidents, orphans }
  }
}
