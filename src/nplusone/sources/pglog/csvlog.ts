import { detach } from '../../lexical.js'
import type { LineBatch } from '../input.js'
import { RecordParser, originOf } from './records.js'

/** csvlog: one record per CSV row; quoted fields may span lines. PostgreSQL 13-17 column sets. */
export class CsvParser extends RecordParser {
  private pendingText = ''
  private pendingLines = 0
  private pendingStart = 0
  private pendingQuotes = 0

  batch({ lines, firstLine }: LineBatch): void {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      const quotes = countQuotes(line)
      if (this.pendingLines === 0) {
        if (line.length === 0) continue
        if ((quotes & 1) === 0) {
          this.row(line, firstLine + i)
          continue
        }
        this.pendingText = line
        this.pendingLines = 1
        this.pendingStart = firstLine + i
        this.pendingQuotes = quotes
        continue
      }
      this.pendingText += `\n${line}`
      this.pendingLines++
      this.pendingQuotes += quotes
      if ((this.pendingQuotes & 1) === 0) {
        const text = this.pendingText
        this.pendingText = ''
        this.pendingLines = 0
        this.row(text, this.pendingStart)
      } else if (this.pendingLines > 100_000 || this.pendingText.length > 64 * 1024 * 1024) {
        this.skipped.skip('unterminated quoted field', this.pendingStart, this.pendingLines)
        this.pendingText = ''
        this.pendingLines = 0
      }
    }
  }

  private row(text: string, line: number): void {
    const fields = parseCsvRow(text)
    if (fields === undefined || fields.length < 22 || fields.length > 27 || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(fields[0]!)) {
      this.skipUnreadable(text, 'not a csvlog row', line)
      return
    }
    const session = detach(fields[5] || fields[3] || '')
    const pid = fields[3] ? Number(fields[3]) : Number.NaN
    const origin = originOf(fields[1] || undefined, fields[2] || undefined, fields[22] || undefined)
    this.emit({
      atMs: this.times.parse(fields[0]!),
      session,
      ...(Number.isSafeInteger(pid) ? { pid } : {}),
      origin: origin === undefined ? undefined : detach(origin),
      severity: fields[11]!,
      message: fields[13]!,
      ...(fields[14] ? { detail: fields[14] } : {}),
      ...(fields[19] ? { statement: fields[19] } : {}),
      ...(fields[12] && fields[12] !== '00000' ? { sqlstate: fields[12] } : {}),
      line,
    })
  }

  override finish(): void {
    if (this.pendingLines > 0)
      this.skipped.skip('truncated record (unterminated quoted field at end of file)', this.pendingStart, this.pendingLines)
    this.pendingLines = 0
  }
}

function countQuotes(line: string): number {
  let count = 0
  let at = line.indexOf('"')
  while (at !== -1) {
    count++
    at = line.indexOf('"', at + 1)
  }
  return count
}

/** RFC 4180 fields of one row; undefined when a quote is malformed. */
export function parseCsvRow(text: string): string[] | undefined {
  const fields: string[] = []
  let i = 0
  const length = text.length
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      let value = ''
      let from = i + 1
      for (;;) {
        const quote = text.indexOf('"', from)
        if (quote === -1) return undefined
        value += text.slice(from, quote)
        if (text.charCodeAt(quote + 1) === 34) {
          value += '"'
          from = quote + 2
          continue
        }
        i = quote + 1
        break
      }
      fields.push(value)
      if (i >= length) return fields
      if (text.charCodeAt(i) !== 44) return undefined
      i++
    } else {
      const comma = text.indexOf(',', i)
      if (comma === -1) {
        fields.push(text.slice(i))
        return fields
      }
      fields.push(text.slice(i, comma))
      i = comma + 1
    }
  }
}
