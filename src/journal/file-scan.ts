import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** Segment files are journal-000001.jsonl, journal-000002.jsonl, ...: number order is time order of writing. */
const SEGMENT_NAME = /^journal-(\d{6,})\.jsonl$/

export interface Segment {
  number: number
  path: string
}

export function segmentPath(dir: string, number: number): string {
  return join(dir, `journal-${String(number).padStart(6, '0')}.jsonl`)
}

export async function listSegments(dir: string): Promise<Segment[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names
    .map((name) => SEGMENT_NAME.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ number: Number(match[1]), path: join(dir, match[0]) }))
    .sort((a, b) => a.number - b.number)
}

export interface Position {
  /** Byte offset of the next line. */
  offset: number
  /** Number of the line before it (1-based lines; 0 at the start). */
  line: number
}

export interface ScannedLine {
  text: string
  line: number
  offset: number
  bytes: number
}

export interface ScanResult {
  /** After the last complete line. */
  end: Position
  /** Bytes after the last newline: a line being written, or torn by a crash. */
  incomplete?: ScannedLine
}

const CHUNK = 1024 * 1024

/** Reads complete lines from `from` up to `until` (bytes), calling `onLine` for each. */
export async function scanSegment(
  path: string,
  from: Position,
  until: number | undefined,
  onLine: (line: ScannedLine) => void,
): Promise<ScanResult> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.allocUnsafe(CHUNK)
    let position = from.offset
    let line = from.line
    let carry: Buffer | undefined
    let carryOffset = from.offset
    for (;;) {
      const want = until === undefined ? CHUNK : Math.min(CHUNK, until - position)
      if (want <= 0) break
      const { bytesRead } = await handle.read(buffer, 0, want, position)
      if (bytesRead === 0) break
      const chunk = buffer.subarray(0, bytesRead)
      const data = carry ? Buffer.concat([carry, chunk]) : chunk
      const base = carry ? carryOffset : position
      position += bytesRead
      let start = 0
      for (let newline = data.indexOf(10, start); newline !== -1; newline = data.indexOf(10, start)) {
        line++
        onLine({ text: data.toString('utf8', start, newline), line, offset: base + start, bytes: newline - start })
        start = newline + 1
      }
      // The buffer is reused for the next read: keep a copy of a partial line.
      carry = start < data.length ? Buffer.from(data.subarray(start)) : undefined
      carryOffset = base + start
    }
    const end = { offset: carry ? carryOffset : position, line }
    if (!carry) return { end }
    return { end, incomplete: { text: carry.toString('utf8'), line: line + 1, offset: carryOffset, bytes: carry.length } }
  } finally {
    await handle.close()
  }
}
