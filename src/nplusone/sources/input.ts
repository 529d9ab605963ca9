import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { badInput } from '../../core/index.js'
import type { SkipTally } from '../types.js'

/** A file to read, or standard input (`-`). */
export interface InputFile {
  name: string
  path?: string
  size?: number
}

/**
 * `-` is stdin; anything else is a path or a glob (`*`, `?`, `[...]` in any segment), for
 * shells that do not expand them and for patterns in config files. A pattern that matches
 * nothing is an error, not an empty result.
 */
export function expandInputs(patterns: readonly string[], cwd = process.cwd()): InputFile[] {
  const files: InputFile[] = []
  for (const pattern of patterns) {
    if (pattern === '-') {
      files.push({ name: 'stdin' })
      continue
    }
    const matches = /[*?[]/.test(pattern) ? expandGlob(pattern, cwd) : [resolve(cwd, pattern)]
    if (matches.length === 0) throw badInput(`No file matches ${pattern}`, 'Check the path; quote globs so that opsctl expands them.')
    for (const path of matches) {
      if (!existsSync(path)) throw badInput(`Cannot read ${pattern}: no such file`, 'Check the path, or pass - to read standard input.')
      const stat = statSync(path)
      if (stat.isDirectory())
        throw badInput(`${pattern} is a directory, not a file`, `Give the files in it, e.g. "${join(pattern, '*.log')}".`)
      files.push({ name: pattern.includes('*') || pattern.includes('?') ? path : pattern, path, size: stat.size })
    }
  }
  return files
}

function expandGlob(pattern: string, cwd: string): string[] {
  const absolute = resolve(cwd, pattern)
  const root = absolute.startsWith('/') ? '/' : ''
  const segments = absolute.split('/').filter(Boolean)
  let current = [root || cwd]
  for (const segment of segments) {
    const next: string[] = []
    for (const dir of current) {
      if (!/[*?[]/.test(segment)) {
        const path = join(dir, segment)
        if (existsSync(path)) next.push(path)
        continue
      }
      const matcher = segmentRegExp(segment)
      let entries: string[] = []
      try {
        entries = readdirSync(dir)
      } catch {
        continue
      }
      for (const entry of entries.sort())
        if (matcher.test(entry) && !(entry.startsWith('.') && !segment.startsWith('.'))) next.push(join(dir, entry))
    }
    current = next
  }
  return current.filter((path) => {
    try {
      return statSync(path).isFile()
    } catch {
      return false
    }
  })
}

function segmentRegExp(segment: string): RegExp {
  let source = ''
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!
    if (char === '*') source += '[^/]*'
    else if (char === '?') source += '[^/]'
    else if (char === '[') {
      const close = segment.indexOf(']', i + 1)
      if (close === -1) source += '\\['
      else {
        source += `[${segment
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`
        i = close
      }
    } else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

export interface ReadProgress {
  /** Bytes read from the file (compressed bytes for .gz). */
  bytes: number
}

export interface LineBatch {
  lines: string[]
  /** Line number (1-based) of lines[0]. */
  firstLine: number
}

const GZIP_MAGIC = [0x1f, 0x8b]
/** Longest line kept whole; a longer one (a giant bulk INSERT, or binary junk without newlines) is an error. */
const MAX_LINE_BYTES = 256 * 1024 * 1024

/**
 * Streams a file as batches of lines, ungzipping when the content is gzip (by magic number,
 * not by name). Binary content is refused with the file and line; lines are never all
 * held in memory. `onChunk` reports raw bytes read, for a progress bar.
 */
export async function readLineBatches(
  file: InputFile,
  onBatch: (batch: LineBatch) => void,
  onChunk: (progress: ReadProgress) => void = () => {},
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<{ bytes: number; lines: number }> {
  const raw: Readable = file.path ? createReadStream(file.path, { highWaterMark: 1 << 20 }) : (stdin as Readable)
  let rawBytes = 0
  let first: Buffer | undefined
  const iterator = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
  const firstResult = await iterator.next()
  if (!firstResult.done) first = toBuffer(firstResult.value)
  const rest = async function* (): AsyncGenerator<Buffer> {
    if (first) {
      rawBytes += first.length
      onChunk({ bytes: rawBytes })
      yield first
    }
    for (;;) {
      const next = await iterator.next()
      if (next.done) return
      const chunk = toBuffer(next.value)
      rawBytes += chunk.length
      onChunk({ bytes: rawBytes })
      yield chunk
    }
  }
  const gzipped = first !== undefined && first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1]
  const source: AsyncIterable<Buffer> = gzipped ? Readable.from(rest()).pipe(createGunzip({ chunkSize: 1 << 20 })) : rest()

  let carry: Buffer | undefined
  let lineNumber = 1
  let sniffed = false
  try {
    for await (const chunkValue of source) {
      let chunk = toBuffer(chunkValue)
      if (!sniffed) {
        sniffed = true
        assertText(file, chunk)
      }
      if (carry) {
        chunk = Buffer.concat([carry, chunk])
        carry = undefined
      }
      const lastNewline = chunk.lastIndexOf(10)
      if (lastNewline === -1) {
        if (chunk.length > MAX_LINE_BYTES)
          throw badInput(
            `${file.name} line ${lineNumber} is longer than 256MB`,
            'Is this a text log? Give a PostgreSQL log, OTLP JSON or an opsctl query log.',
          )
        carry = chunk
        continue
      }
      if (lastNewline < chunk.length - 1) carry = chunk.subarray(lastNewline + 1)
      const text = chunk.toString('utf8', 0, lastNewline)
      const lines = text.split('\n')
      if (text.includes('\r')) for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1)
      onBatch({ lines, firstLine: lineNumber })
      lineNumber += lines.length
    }
  } catch (error) {
    if (gzipped && (error as { code?: string }).code?.startsWith('Z_')) {
      throw badInput(
        `Cannot read ${file.name}: the gzip data is corrupt or truncated after line ${lineNumber - 1} (${(error as Error).message})`,
        'Copy the file again, or decompress what is left with zcat and pass that.',
      )
    }
    throw error
  }
  if (carry && carry.length > 0) {
    const line = carry.toString('utf8').replace(/\r$/, '')
    onBatch({ lines: [line], firstLine: lineNumber })
    lineNumber++
  }
  return { bytes: rawBytes, lines: lineNumber - 1 }
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value
}

/**
 * A NUL byte in the first 8000 bytes (git's rule) means a binary file: an archive, a core dump,
 * a database file. Later NUL runs (a log after a power loss) are skipped line by line instead.
 */
function assertText(file: InputFile, chunk: Buffer): void {
  const head = chunk.subarray(0, 8000)
  const nul = head.indexOf(0)
  if (nul === -1) return
  let line = 1
  for (let i = 0; i < nul; i++) if (head[i] === 10) line++
  throw badInput(
    `${file.name} is binary, not a text log: NUL byte at line ${line} (byte ${nul})`,
    'Give a PostgreSQL log (stderr, csvlog or jsonlog, optionally .gz), OTLP JSON or an opsctl query log.',
  )
}

/** Counts what a parser could not use, with the first few places, as STYLE.md asks. */
export class SkipCounter {
  lines = 0
  readonly reasons: Record<string, number> = {}
  readonly examples: Array<{ at: string; reason: string }> = []

  constructor(private readonly fileName: string) {}

  skip(reason: string, line: number, count = 1): void {
    this.lines += count
    this.reasons[reason] = (this.reasons[reason] ?? 0) + count
    if (this.examples.length < 5) this.examples.push({ at: `${this.fileName}:${line}`, reason })
  }

  toJSON(): SkipTally {
    return { lines: this.lines, reasons: { ...this.reasons }, examples: [...this.examples] }
  }
}

export function displayName(file: InputFile): string {
  return file.path ? (file.name.length > 60 ? basename(file.path) : file.name) : 'stdin'
}
