import { crc32 } from 'node:zlib'
import { canonicalJson, checkStoredEvent, type Checked, type JournalEvent } from './event.js'

/**
 * A journal line is the canonical JSON of the event with its CRC-32 as the last member:
 * `{"v":1,"id":"01J…",…,"data":{…},"crc":"1c291ca3"}`. The checksum covers the canonical JSON
 * without the crc member, so a line stays plain JSON for jq and friends, and the reader can
 * check it on the raw text without re-serializing (the fast path).
 */
const CRC_SUFFIX = /,"crc":"([0-9a-f]{8})"\}$/
const CRC_SUFFIX_LENGTH = ',"crc":"00000000"}'.length

export function checksumOf(canonical: string): string {
  return crc32(canonical).toString(16).padStart(8, '0')
}

export function encodeLine(event: JournalEvent): string {
  const canonical = canonicalJson(event)
  return `${canonical.slice(0, -1)},"crc":"${checksumOf(canonical)}"}\n`
}

/** Whether the line is exactly what a writer wrote: its checksum matches its own text. */
export function hasIntactChecksum(line: string): boolean {
  const suffix = CRC_SUFFIX.exec(line.slice(-CRC_SUFFIX_LENGTH))
  return suffix !== null && checksumOf(`${line.slice(0, -CRC_SUFFIX_LENGTH)}}`) === suffix[1]
}

/** A line without its newline -> the event, or why it is damaged. */
export function decodeLine(text: string): Checked<JournalEvent> {
  if (hasIntactChecksum(text)) return parseIntactLine(text)
  // Slow path: the text differs from what was written; intact only if its content still matches.
  const line = text.endsWith('\r') ? text.slice(0, -1) : text
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return { ok: false, reason: 'not valid JSON' }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' }
  const { crc, ...rest } = value as Record<string, unknown>
  if (typeof crc !== 'string') return { ok: false, reason: 'no checksum (crc)' }
  const checked = checkStoredEvent(rest)
  if (!checked.ok) return checked
  if (checksumOf(canonicalJson(checked.value)) !== crc)
    return { ok: false, reason: 'checksum mismatch: the line was changed after it was written' }
  return checked
}

/** A line whose checksum was found intact. */
export function parseIntactLine(text: string): Checked<JournalEvent> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'not valid JSON' }
  }
  if (value !== null && typeof value === 'object') delete (value as { crc?: unknown }).crc
  return checkStoredEvent(value)
}

export interface LineHead {
  id: string
  time: string
  kind: string
}

const HEAD_START = '{"v":1,"id":"'

/**
 * id, time and kind of a line as this version writes it, read at their fixed offsets without
 * parsing, so that a listing filtered by kind or time parses only the lines it shows.
 */
export function peekLineHead(text: string): LineHead | undefined {
  if (!text.startsWith(HEAD_START) || text.slice(39, 49) !== '","time":"' || text.slice(73, 83) !== '","kind":"') return undefined
  const end = text.indexOf('"', 83)
  return end < 0 ? undefined : { id: text.slice(13, 39), time: text.slice(49, 73), kind: text.slice(83, end) }
}

export interface SalvagedEvent {
  event: JournalEvent
  /** Character index in the damaged line where the intact event starts. */
  at: number
}

/**
 * A damaged line can hide a whole event behind a torn one (a crashed writer's partial line, then
 * the next writer's line on the same row). Finds an intact event that ends the line.
 */
export function salvageLine(text: string): SalvagedEvent | undefined {
  for (let at = text.indexOf('{"v":', 1); at > 0; at = text.indexOf('{"v":', at + 1)) {
    const decoded = decodeLine(text.slice(at))
    if (decoded.ok) return { event: decoded.value, at }
  }
  return undefined
}
