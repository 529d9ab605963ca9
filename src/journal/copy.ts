import { resolve } from 'node:path'
import { badInput, redactText } from '../core/index.js'
import type { JournalEvent } from './event.js'
import { isPostgresLocation, openJournalAt, type JournalLocationOptions } from './open.js'
import type { Damage } from './store.js'

export interface CopySummary {
  from: string
  to: string
  read: number
  appended: number
  skipped: number
  damaged: number
}

const COPY_CHUNK = 5000

/**
 * Copies every event from one journal to another. Ids are the identity: events the target
 * already holds are skipped, so running it again (or after an interruption) adds only what is
 * missing and never duplicates.
 */
export async function copyJournal(
  from: string,
  to: string,
  options: JournalLocationOptions & { onDamage?: (damage: Damage) => void; onProgress?: (copied: number) => void },
): Promise<CopySummary> {
  if (sameLocation(from, to, options.baseDir))
    throw badInput(`--from and --to are the same journal (${redactText(from)})`, 'Copy to another directory or database.')
  const source = await openJournalAt(from, options)
  try {
    const target = await openJournalAt(to, options)
    try {
      const summary: CopySummary = { from: source.location, to: target.location, read: 0, appended: 0, skipped: 0, damaged: 0 }
      let chunk: JournalEvent[] = []
      const flush = async () => {
        const result = await target.append(chunk, { skipExisting: true })
        summary.appended += result.appended
        summary.skipped += result.skipped
        chunk = []
        options.onProgress?.(summary.read)
      }
      const onDamage = (damage: Damage) => {
        summary.damaged++
        options.onDamage?.(damage)
      }
      for await (const event of source.read({}, { onDamage })) {
        summary.read++
        chunk.push(event)
        if (chunk.length >= COPY_CHUNK) await flush()
      }
      if (chunk.length > 0) await flush()
      return summary
    } finally {
      await target.close()
    }
  } finally {
    await source.close()
  }
}

function sameLocation(a: string, b: string, baseDir = process.cwd()): boolean {
  if (isPostgresLocation(a) || isPostgresLocation(b)) return a === b
  return resolve(baseDir, a) === resolve(baseDir, b)
}
