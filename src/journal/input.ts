import { MAX_EVENT_BYTES } from './event.js'

/** A line of input, numbered from 1; `tooLong` lines were not kept. */
export interface InputLine {
  line: number
  text?: string
  tooLong?: boolean
}

/**
 * Splits a byte stream into lines without ever holding more than `maxBytes` of one line:
 * a line over the limit is reported by number and its bytes dropped as they arrive.
 */
export class LineSplitter {
  private parts: Buffer[] = []
  private size = 0
  private line = 0
  private discarding = false

  constructor(private readonly maxBytes = MAX_EVENT_BYTES) {}

  push(chunk: Buffer | string): InputLine[] {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    const out: InputLine[] = []
    let start = 0
    for (let newline = data.indexOf(10, start); newline !== -1; newline = data.indexOf(10, start)) {
      out.push(this.finish(data.subarray(start, newline)))
      start = newline + 1
    }
    if (start < data.length) this.keep(data.subarray(start))
    return out
  }

  end(): InputLine[] {
    if (this.size === 0 && !this.discarding) return []
    return [this.finish(Buffer.alloc(0))]
  }

  private keep(part: Buffer): void {
    if (this.discarding) return
    this.size += part.length
    if (this.size > this.maxBytes) {
      this.discarding = true
      this.parts = []
    } else {
      this.parts.push(Buffer.from(part)) // the caller may reuse its buffer
    }
  }

  private finish(last: Buffer): InputLine {
    this.line++
    const tooLong = this.discarding || this.size + last.length > this.maxBytes
    const text = tooLong
      ? undefined
      : Buffer.concat([...this.parts, last])
          .toString('utf8')
          .replace(/\r$/, '')
    this.parts = []
    this.size = 0
    this.discarding = false
    return tooLong ? { line: this.line, tooLong: true } : { line: this.line, text: text! }
  }
}
