import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type Settings } from '../../src/core/index.js'
import { openJournal, recordEvent, type JournalStore } from '../../src/journal/index.js'
import { IncidentCache, readIncidents } from './internals.js'
import { tempDir, type TempDir } from './fixtures.js'

let work: TempDir
let settings: Settings
let store: JournalStore
beforeAll(async () => {
  work = tempDir('opsctl-incident-cache-')
  work.write('opsctl.yaml', 'service:\n  name: api\njournal:\n  durable: false\n')
  settings = loadConfig({ cwd: work.path })
  store = await openJournal(settings)
})
afterAll(async () => {
  await store?.close()
  work?.remove()
})

const on = (id: string, kind: string, data: Record<string, unknown>) =>
  recordEvent(store, { kind, subject: id, links: { incident: id }, data })

describe("the receiver's incidents, read incrementally", () => {
  it('sees what other writers append between reads, and replays the same as a whole read', async () => {
    const cache = new IncidentCache()
    await on('INC-20261125-AAAA', 'incident.opened', { title: 'first', severity: 'SEV2' })
    await on('INC-20261125-BBBB', 'incident.opened', { title: 'second', severity: 'SEV3' })
    expect((await cache.read(store)).incidents.map((incident) => incident.status)).toEqual(['open', 'open'])

    // Another process acknowledges one and resolves the other; one more incident is declared.
    await on('INC-20261125-AAAA', 'incident.acknowledged', { by: 'bob' })
    await on('INC-20261125-BBBB', 'incident.resolved', { summary: 'gone' })
    await on('INC-20261125-CCCC', 'incident.opened', { title: 'third', severity: 'SEV1' })
    await on('INC-20261125-DDDD', 'incident.note', { message: 'an orphan' })
    const cached = await cache.read(store)
    expect(cached.incidents.map((incident) => [incident.id, incident.status])).toEqual([
      ['INC-20261125-AAAA', 'acknowledged'],
      ['INC-20261125-BBBB', 'resolved'],
      ['INC-20261125-CCCC', 'open'],
    ])
    expect(cached).toEqual(await readIncidents(store))
    // Reading again without anything new gives the same.
    expect(await cache.read(store)).toEqual(cached)
  })
})
