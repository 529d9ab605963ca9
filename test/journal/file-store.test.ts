import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type JournalEvent } from '../../src/journal/index.js'
import { FileJournal, LOCK_FILE_NAME } from '../../src/journal/file-store.js'
import { encodeLine } from '../../src/journal/line.js'
import { type Damage } from '../../src/journal/store.js'
import { collect, event, note, tempDir, testContext, type TempDir } from './fixtures.js'

let dir: TempDir
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => dir.remove())

function journal(options: Partial<ConstructorParameters<typeof FileJournal>[0]> = {}) {
  return new FileJournal({ dir: join(dir.path, 'journal'), durable: true, segmentSize: 64 * 1024 * 1024, ...options })
}

function notes(count: number, at = '2026-01-01T00:00:00.000Z'): JournalEvent[] {
  const context = testContext(at)
  return Array.from({ length: count }, (_, i) => note(`event ${i}`, context))
}

function segmentFiles(): string[] {
  return readdirSync(join(dir.path, 'journal'))
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
}

/** Replaces line `number` (1-based) of a segment file. */
function rewriteLine(file: string, number: number, change: (line: string) => string): void {
  const path = join(dir.path, 'journal', file)
  const lines = readFileSync(path, 'utf8').split('\n')
  lines[number - 1] = change(lines[number - 1]!)
  writeFileSync(path, lines.join('\n'))
}

describe('the file journal', () => {
  it('reads back what was appended, in id order even when written out of order', async () => {
    const store = journal()
    const late = notes(3, '2026-01-01T10:00:00.000Z')
    const early = notes(3, '2026-01-01T09:00:00.000Z')
    await store.append(late)
    await store.append(early)
    const read = await collect(store.read())
    expect(read).toEqual([...early, ...late])
    await store.close()
  })

  it('reads the same order when it re-reads lines by offset instead of keeping them in memory', async () => {
    const store = journal({ keepInMemory: 5 })
    const batches = [notes(20, '2026-01-01T10:00:00.000Z'), notes(20, '2026-01-01T08:00:00.000Z'), notes(20, '2026-01-01T09:00:00.000Z')]
    for (const batch of batches) await store.append(batch)
    const read = await collect(store.read())
    expect(read.map((e) => e.id)).toEqual([...batches[1]!, ...batches[2]!, ...batches[0]!].map((e) => e.id))
    expect(read).toEqual([...batches[1]!, ...batches[2]!, ...batches[0]!])
    await store.close()
  })

  it('filters by kind namespace, subject and time', async () => {
    const store = journal()
    const at = (time: string) => testContext(time)
    const step = event({ kind: 'deploy.step', subject: 'api', data: { step: 1, weight: 10 } }, at('2026-01-01T10:00:00.000Z'))
    const verdict = event({ kind: 'deploy.verdict', subject: 'web', data: { verdict: 'pass' } }, at('2026-01-01T11:00:00.000Z'))
    const flag = event({ kind: 'flag.changed', subject: 'api', data: { flag: 'f', change: 'enabled' } }, at('2026-01-01T12:00:00.000Z'))
    await store.append([step, verdict, flag])
    expect(await collect(store.read({ kinds: ['deploy'] }))).toEqual([step, verdict])
    expect(await collect(store.read({ subjects: ['api'] }))).toEqual([step, flag])
    expect(await collect(store.read({ since: Date.parse(verdict.time), until: Date.parse(flag.time) }))).toEqual([verdict])
    await store.close()
  })

  it('rotates segments by size and merges them when reading', async () => {
    const store = journal({ segmentSize: 4096 })
    const all = notes(100)
    for (let i = 0; i < all.length; i += 10) await store.append(all.slice(i, i + 10))
    expect(segmentFiles().length).toBeGreaterThan(3)
    for (const file of segmentFiles()) expect(readFileSync(join(dir.path, 'journal', file)).length).toBeLessThanOrEqual(4096)
    expect(await collect(store.read())).toEqual(all)
    const report = await store.verify()
    expect(report).toMatchObject({ units: segmentFiles().length, records: 100, events: 100, damaged: [] })
    await store.close()
  })

  it('follows rotations made by another writer', async () => {
    const a = journal({ segmentSize: 2048 })
    const b = journal({ segmentSize: 2048 })
    const all = notes(60)
    for (let i = 0; i < all.length; i += 5) await (i % 10 === 0 ? a : b).append(all.slice(i, i + 5))
    expect(await collect(a.read())).toEqual(all)
    expect((await a.verify()).damaged).toEqual([])
    await Promise.all([a.close(), b.close()])
  })

  it('reports a line corrupted in the middle of a segment by file and line, and keeps the events around it', async () => {
    const store = journal()
    const all = notes(5)
    await store.append(all)
    rewriteLine('journal-000001.jsonl', 3, (line) => line.replace('event 2', 'event X'))
    const damage: Damage[] = []
    const read = await collect(store.read({}, { onDamage: (d) => damage.push(d) }))
    expect(read).toEqual([all[0], all[1], all[3], all[4]])
    expect(damage).toEqual([
      { location: join(dir.path, 'journal', 'journal-000001.jsonl'), line: 3, reason: expect.stringMatching(/checksum mismatch/) },
    ])
    expect((await store.verify()).damaged).toEqual(damage)
    await store.close()
  })

  it('ends a torn last line before appending, so the next events are intact', async () => {
    const store = journal()
    const first = notes(2)
    await store.append(first)
    const torn = encodeLine(note('torn by a crash')).slice(0, 50)
    appendFileSync(join(dir.path, 'journal', 'journal-000001.jsonl'), torn)
    const report = await store.verify()
    expect(report.damaged).toEqual([
      { location: expect.stringContaining('journal-000001.jsonl'), line: 3, reason: expect.stringMatching(/incomplete last line/) },
    ])

    const after = notes(2, '2026-01-02T00:00:00.000Z')
    await store.append(after)
    const damage: Damage[] = []
    expect(await collect(store.read({}, { onDamage: (d) => damage.push(d) }))).toEqual([...first, ...after])
    expect(damage).toEqual([{ location: expect.stringContaining('journal-000001.jsonl'), line: 3, reason: 'not valid JSON' }])
    await store.close()
  })

  it('keeps an intact event that sits behind torn bytes on the same line', async () => {
    const store = journal()
    const path = join(dir.path, 'journal', 'journal-000001.jsonl')
    await store.append(notes(1))
    const hidden = note('written after the crash')
    appendFileSync(path, encodeLine(note('torn')).slice(0, 30) + encodeLine(hidden))
    const damage: Damage[] = []
    const read = await collect(store.read({}, { onDamage: (d) => damage.push(d) }))
    expect(read.map((e) => e.id)).toContain(hidden.id)
    expect(damage[0]?.reason).toMatch(new RegExp(`intact event after the damage, ${hidden.id}`))
    await store.close()
  })

  it('skips ids it already holds when asked, and lists a duplicate id once', async () => {
    const store = journal()
    const all = notes(10)
    await store.append(all.slice(0, 6))
    expect(await store.append(all, { skipExisting: true })).toEqual({ appended: 4, skipped: 6 })
    expect(await store.append(all, { skipExisting: true })).toEqual({ appended: 0, skipped: 10 })
    await store.append(all.slice(0, 1)) // without skipExisting: a duplicate line
    expect(await collect(store.read())).toEqual(all)
    expect(await store.verify()).toMatchObject({ events: 11, duplicates: 1, damaged: [] })
    await store.close()
  })

  it('serializes appends of several stores in one process through the lock', async () => {
    const stores = Array.from({ length: 4 }, () => journal())
    const batches = stores.map((_, i) => notes(50, `2026-01-0${i + 1}T00:00:00.000Z`))
    await Promise.all(stores.flatMap((store, i) => Array.from({ length: 10 }, (_, k) => store.append(batches[i]!.slice(k * 5, k * 5 + 5)))))
    const read = await collect(stores[0]!.read())
    expect(read).toEqual(batches.flat())
    expect(existsSync(join(dir.path, 'journal', LOCK_FILE_NAME))).toBe(false)
    await Promise.all(stores.map((store) => store.close()))
  })

  it('breaks the lock of a writer that died holding it', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    const store = journal()
    await store.append(notes(1))
    writeFileSync(join(dir.path, 'journal', LOCK_FILE_NAME), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), token: 'dead' }))
    await store.append(notes(1, '2026-02-01T00:00:00.000Z'))
    expect(await collect(store.read())).toHaveLength(2)
    expect(existsSync(join(dir.path, 'journal', LOCK_FILE_NAME))).toBe(false)
    await store.close()
  })

  it('waits for a live holder and gives up with the holder named', async () => {
    const store = journal({ lockTimeoutMs: 300 })
    await store.append(notes(1))
    writeFileSync(join(dir.path, 'journal', LOCK_FILE_NAME), JSON.stringify({ pid: process.pid, host: hostname(), token: 'alive' }))
    await expect(store.append(notes(1))).rejects.toThrow(new RegExp(`held .* by process ${process.pid}`))
    expect(JSON.parse(readFileSync(join(dir.path, 'journal', LOCK_FILE_NAME), 'utf8'))).toMatchObject({ token: 'alive' })
    await store.close()
  })

  it('writes without flushing when not durable, with the same result', async () => {
    const store = journal({ durable: false })
    const all = notes(20)
    await store.append(all)
    expect(await collect(store.read())).toEqual(all)
    await store.close()
  })

  it('follows: the events so far, then new ones as they are appended, until aborted', async () => {
    const reader = journal({ pollMs: 20 })
    const writer = journal()
    const before = notes(2)
    await writer.append(before)
    const stop = new AbortController()
    const seen: JournalEvent[] = []
    const following = (async () => {
      for await (const item of reader.follow({ kinds: ['note'] }, { signal: stop.signal })) {
        seen.push(item)
        if (seen.length === 5) stop.abort()
      }
    })()
    await waitFor(() => seen.length === 2)
    const after = notes(3, '2026-03-01T00:00:00.000Z')
    await writer.append([after[0]!, event({ kind: 'x.other', data: {} }), after[1]!])
    await writer.append([after[2]!])
    await following
    expect(seen).toEqual([...before, ...after])
    await Promise.all([reader.close(), writer.close()])
  })
})

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10))
}
