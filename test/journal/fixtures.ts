import '../../src/cli/event-catalog.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixedClock } from '../../src/core/index.js'
import { createIdGenerator, type JournalEvent } from '../../src/journal/index.js'
import { buildEvent, type EventContext } from '../../src/journal/event.js'

/** A context with a fixed clock and actor, and its own id generator. */
export function testContext(at = '2026-01-02T03:04:05.000Z', actor = 'tester'): EventContext {
  return { clock: fixedClock(at), actor, ids: createIdGenerator() }
}

/** A valid event built the way append builds it; throws on a bad input (a test bug). */
export function event(input: Record<string, unknown>, context: EventContext = testContext()): JournalEvent {
  const built = buildEvent({ subject: 'api', ...input }, context)
  if (!built.ok) throw new Error(built.reason)
  return built.value
}

export function note(message: string, context?: EventContext, extra: Record<string, unknown> = {}): JournalEvent {
  return event({ kind: 'note', data: { message }, ...extra }, context)
}

export interface TempDir {
  path: string
  remove(): void
}

export function tempDir(prefix = 'opsctl-journal-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}
