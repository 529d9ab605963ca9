import { existsSync, fstatSync, readSync, writeSync } from 'node:fs'
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { badInput, environmentError, formatBytes } from '../core/index.js'
import { MAX_EVENT_BYTES, type JournalEvent } from './event.js'
import { listSegments, scanSegment, segmentPath, type Position, type ScannedLine, type Segment } from './file-scan.js'
import { withFileLock } from './file-lock.js'
import { matchesFilter, matchesKindAndTime, type JournalFilter } from './filter.js'
import { decodeLine, encodeLine, hasIntactChecksum, parseIntactLine, peekLineHead, salvageLine } from './line.js'
import type { AppendOptions, AppendResult, Damage, JournalStore, ReadOptions, VerifyReport } from './store.js'

export interface FileJournalOptions {
  dir: string
  /** fdatasync every append before it returns (and the directory when a segment is created). */
  durable: boolean
  /** A segment that would grow past this many bytes is closed and the next one started. */
  segmentSize: number
  lockTimeoutMs?: number
  /** How often follow() looks for new lines. */
  pollMs?: number
  /** Matching events kept in memory while listing; beyond it, lines are read again by offset. */
  keepInMemory?: number
}

export const LOCK_FILE_NAME = 'journal.lock'

const KEEP_IN_MEMORY = 100_000
/** The checksum member and the newline a line adds to the event's JSON. */
const LINE_OVERHEAD = 32
const READ_RUN_BYTES = 4 * 1024 * 1024
const READ_GAP_BYTES = 64 * 1024
const TORN = 'incomplete last line: a write was interrupted (torn by a crash)'

interface Located {
  id: string
  segment: number
  offset: number
  bytes: number
  event?: JournalEvent
}

interface OpenSegment extends Segment {
  handle: FileHandle
}

/**
 * The default journal: JSON lines in numbered segment files. One append is one O_APPEND write
 * under the advisory lock, then fdatasync when durable. Readers order by id, because events
 * from concurrent writers (or a copy of old events) can land out of time order.
 */
export class FileJournal implements JournalStore {
  readonly kind = 'files' as const
  readonly location: string
  private readonly lockPath: string
  private queue: Promise<unknown> = Promise.resolve()
  private current: OpenSegment | undefined
  private knownIds: { ids: Set<string>; positions: Map<string, Position> } | undefined

  constructor(private readonly options: FileJournalOptions) {
    this.location = options.dir
    this.lockPath = join(options.dir, LOCK_FILE_NAME)
  }

  async append(events: readonly JournalEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) return { appended: 0, skipped: 0 }
    const lines = events.map((event) => {
      const line = encodeLine(event)
      if (Buffer.byteLength(line) > MAX_EVENT_BYTES + LINE_OVERHEAD)
        throw badInput(
          `Event ${event.id} is larger than ${formatBytes(MAX_EVENT_BYTES)}`,
          'Keep large payloads out of the journal and link to them instead.',
        )
      return line
    })
    // Appends of one process queue here; processes queue on the lock file.
    const run = this.queue.then(() => this.appendLocked(events, lines, options))
    this.queue = run.catch(() => {})
    return run
  }

  private async appendLocked(events: readonly JournalEvent[], lines: string[], options: AppendOptions): Promise<AppendResult> {
    await this.ensureDirectory()
    if (options.skipExisting && !this.knownIds) await this.loadKnownIds() // the long scan, outside the lock
    let written: FileHandle | undefined
    const result = await withFileLock(
      this.lockPath,
      async () => {
        let chosen = lines
        const chosenIds = new Set<string>()
        if (options.skipExisting) {
          await this.catchUpKnownIds()
          const known = this.knownIds!.ids
          chosen = lines.filter((_line, i) => {
            const id = events[i]!.id
            if (known.has(id) || chosenIds.has(id)) return false
            chosenIds.add(id)
            return true
          })
        }
        if (chosen.length === 0) return { appended: 0, skipped: lines.length }
        const payload = Buffer.from(chosen.join(''))
        let segment = await this.currentSegment()
        let size = fstatSync(segment.handle.fd).size
        if (size > 0 && size + payload.length > this.options.segmentSize) {
          segment = await this.openSegment(segment.number + 1)
          size = 0
        }
        // A crashed writer may have left a torn line: end it, so that ours starts on a line of its own.
        const write = size > 0 && !endsWithNewline(segment.handle.fd, size) ? Buffer.concat([Buffer.from('\n'), payload]) : payload
        writeFully(segment.handle.fd, write)
        written = segment.handle
        if (this.knownIds) {
          for (const id of chosenIds) this.knownIds.ids.add(id)
          this.knownIds.positions.set(segment.path, { offset: size + write.length, line: 0 })
        }
        return { appended: chosen.length, skipped: lines.length - chosen.length }
      },
      { timeoutMs: this.options.lockTimeoutMs },
    )
    // Flushed after the lock is released, so that other writers need not wait for the disk;
    // fdatasync covers the whole file, and the caller hears of success only after it.
    if (written && this.options.durable) await written.datasync()
    return result
  }

  read(filter: JournalFilter = {}, options: ReadOptions = {}): AsyncIterable<JournalEvent> {
    return this.readOrdered(filter, options)
  }

  async *follow(filter: JournalFilter = {}, options: ReadOptions = {}): AsyncIterable<JournalEvent> {
    const limits = new Map<string, number>()
    for (const segment of await listSegments(this.options.dir)) limits.set(segment.path, (await stat(segment.path)).size)
    const positions = new Map<string, Position>()
    yield* this.readOrdered(filter, options, { limits, positions })
    while (!options.signal?.aborted) {
      await sleep(this.options.pollMs ?? 200, options.signal)
      if (options.signal?.aborted) break
      const fresh: JournalEvent[] = []
      for (const segment of await listSegments(this.options.dir)) {
        const from = positions.get(segment.path) ?? { offset: 0, line: 0 }
        if ((await stat(segment.path)).size <= from.offset) continue
        // An incomplete last line is left for the next round: its writer may still be at it.
        const { end } = await scanSegment(segment.path, from, undefined, (line) => {
          const event = this.decode(segment.path, line, options)
          if (event && matchesFilter(event, filter)) fresh.push(event)
        })
        positions.set(segment.path, end)
      }
      fresh.sort((a, b) => compareIds(a.id, b.id))
      yield* fresh
    }
  }

  async verify(): Promise<VerifyReport> {
    const damaged: Damage[] = []
    const ids = new Set<string>()
    let records = 0
    let events = 0
    let duplicates = 0
    const segments = await listSegments(this.options.dir)
    for (const segment of segments) {
      const onDamage = (damage: Damage) => damaged.push(damage)
      const { incomplete } = await scanSegment(segment.path, { offset: 0, line: 0 }, undefined, (line) => {
        records++
        const event = this.decode(segment.path, line, { onDamage })
        if (!event) return
        events++
        if (ids.has(event.id)) duplicates++
        else ids.add(event.id)
      })
      if (incomplete) {
        records++
        damaged.push({ location: segment.path, line: incomplete.line, reason: TORN })
      }
    }
    return { store: this.kind, location: this.location, units: segments.length, records, events, duplicates, damaged }
  }

  async close(): Promise<void> {
    await this.queue
    await this.current?.handle.close()
    this.current = undefined
  }

  // --- reading ---

  /**
   * Pass 1 scans every segment, checks every line and keeps the position of each match; pass 2
   * yields them in id order, from memory or by reading the lines back in runs (a journal is
   * nearly sorted, so the runs are long and the reads sequential).
   */
  private async *readOrdered(
    filter: JournalFilter,
    options: ReadOptions,
    follow?: { limits: Map<string, number>; positions: Map<string, Position> },
  ): AsyncGenerator<JournalEvent> {
    const segments = (await listSegments(this.options.dir)).filter((segment) => !follow || follow.limits.has(segment.path))
    const found: Located[] = []
    let keep = true
    let sorted = true
    const add = (entry: Located) => {
      if (sorted && found.length > 0 && compareIds(found[found.length - 1]!.id, entry.id) > 0) sorted = false
      found.push(entry)
      if (keep && found.length > (this.options.keepInMemory ?? KEEP_IN_MEMORY)) {
        keep = false
        for (const item of found) if (item.bytes >= 0) delete item.event
      }
    }
    for (const [index, segment] of segments.entries()) {
      if (options.signal?.aborted) return
      const { end, incomplete } = await scanSegment(segment.path, { offset: 0, line: 0 }, follow?.limits.get(segment.path), (line) => {
        if (line.bytes === 0) return
        const intact = hasIntactChecksum(line.text)
        if (intact) {
          // Most lines of a filtered listing are left out on their head alone, unparsed.
          const head = peekLineHead(line.text)
          if (head && !matchesKindAndTime(head, filter)) return
        }
        const decoded = intact ? parseIntactLine(line.text) : decodeLine(line.text)
        if (decoded.ok) {
          if (matchesFilter(decoded.value, filter))
            add({ id: decoded.value.id, segment: index, offset: line.offset, bytes: line.bytes, ...(keep ? { event: decoded.value } : {}) })
          return
        }
        const salvaged = this.reportDamage(segment.path, line, decoded.reason, options)
        // Salvaged events stay in memory (bytes -1): they are rare and have no line of their own.
        if (salvaged && matchesFilter(salvaged, filter))
          add({ id: salvaged.id, segment: index, offset: line.offset, bytes: -1, event: salvaged })
      })
      if (follow) follow.positions.set(segment.path, end)
      else if (incomplete) options.onDamage?.({ location: segment.path, line: incomplete.line, reason: TORN })
    }
    if (!sorted) found.sort((a, b) => compareIds(a.id, b.id))

    const handles = new Map<number, FileHandle>()
    try {
      let previous: string | undefined
      for (let i = 0; i < found.length;) {
        const first = found[i]!
        if (first.event || first.bytes < 0) {
          i++
          if (first.id !== previous && first.event) yield first.event
          previous = first.id
          continue
        }
        // A run of lines close together in one segment: one read.
        let end = first.offset + first.bytes
        let j = i + 1
        for (; j < found.length; j++) {
          const next = found[j]!
          if (next.event || next.bytes < 0 || next.segment !== first.segment || next.offset < end) break
          if (next.offset - end > READ_GAP_BYTES || next.offset + next.bytes - first.offset > READ_RUN_BYTES) break
          end = next.offset + next.bytes
        }
        const segment = segments[first.segment]!
        let handle = handles.get(first.segment)
        if (!handle) {
          handle = await open(segment.path, 'r')
          handles.set(first.segment, handle)
        }
        const buffer = Buffer.allocUnsafe(end - first.offset)
        await handle.read(buffer, 0, buffer.length, first.offset)
        for (let k = i; k < j; k++) {
          const entry = found[k]!
          if (entry.id === previous) continue
          previous = entry.id
          // Checked in pass 1, and segments only ever grow: parse without checking again.
          const decoded = parseIntactLine(buffer.toString('utf8', entry.offset - first.offset, entry.offset - first.offset + entry.bytes))
          if (decoded.ok) yield decoded.value
        }
        i = j
      }
    } finally {
      for (const handle of handles.values()) await handle.close()
    }
  }

  private decode(path: string, line: ScannedLine, options: ReadOptions): JournalEvent | undefined {
    if (line.bytes === 0) return undefined
    const decoded = decodeLine(line.text)
    if (decoded.ok) return decoded.value
    return this.reportDamage(path, line, decoded.reason, options)
  }

  /** Reports a damaged line; returns an intact event found at its end, if any. */
  private reportDamage(path: string, line: ScannedLine, reason: string, options: ReadOptions): JournalEvent | undefined {
    const salvaged = salvageLine(line.text)
    options.onDamage?.({
      location: path,
      line: line.line,
      reason: salvaged ? `${reason} (an intact event after the damage, ${salvaged.event.id}, was kept)` : reason,
    })
    return salvaged?.event
  }

  // --- writing ---

  private async ensureDirectory(): Promise<void> {
    if (existsSync(this.options.dir)) return
    try {
      await mkdir(this.options.dir, { recursive: true })
      if (this.options.durable) await syncDirectory(dirname(this.options.dir))
    } catch (error) {
      throw environmentError(
        `Cannot create the journal directory ${this.options.dir}: ${(error as Error).message}`,
        'Check journal.dir and its permissions.',
        error,
      )
    }
  }

  /** The newest segment, following rotations made by other processes since the last append. */
  private async currentSegment(): Promise<OpenSegment> {
    if (!this.current) {
      const last = (await listSegments(this.options.dir)).at(-1)
      return this.openSegment(last?.number ?? 1)
    }
    let number = this.current.number
    while (existsSync(segmentPath(this.options.dir, number + 1))) number++
    return number === this.current.number ? this.current : this.openSegment(number)
  }

  private async openSegment(number: number): Promise<OpenSegment> {
    const path = segmentPath(this.options.dir, number)
    const created = !existsSync(path)
    const handle = await open(path, 'a+') // read too: the last byte tells whether a torn line needs ending
    if (created && this.options.durable) await syncDirectory(this.options.dir)
    await this.current?.handle.close()
    this.current = { number, path, handle }
    return this.current
  }

  private async loadKnownIds(): Promise<void> {
    this.knownIds = { ids: new Set(), positions: new Map() }
    await this.catchUpKnownIds()
  }

  private async catchUpKnownIds(): Promise<void> {
    const known = this.knownIds!
    for (const segment of await listSegments(this.options.dir)) {
      const from = known.positions.get(segment.path) ?? { offset: 0, line: 0 }
      const { end } = await scanSegment(segment.path, from, undefined, (line) => {
        const event = line.bytes > 0 ? decodeLine(line.text) : undefined
        if (event?.ok) known.ids.add(event.value.id)
        else if (event) {
          const salvaged = salvageLine(line.text)
          if (salvaged) known.ids.add(salvaged.event.id)
        }
      })
      known.positions.set(segment.path, end)
    }
  }
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function endsWithNewline(fd: number, size: number): boolean {
  const last = Buffer.alloc(1)
  readSync(fd, last, 0, 1, size - 1)
  return last[0] === 10
}

/** One write(2) of the whole batch (O_APPEND); more only if the kernel takes less (a huge batch). */
function writeFully(fd: number, buffer: Buffer): void {
  let written = 0
  while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written)
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}
