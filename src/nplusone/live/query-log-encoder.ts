// The live hook's query log, on the writer thread (or on the service's thread when that thread
// cannot start): batches encoded as the JSON lines that sources/service-log.ts reads back (one
// ServiceLogRecord per line).
import { writeSync } from 'node:fs'
import type { UnitRef } from '../types.js'
import { TEXT_MAX_LENGTH, type QueryLogBatch, type QueryLogExtras } from './query-log-batch.js'

const DIGITS = 48 // '0'
/** 9999-12-31T23:59:59.999Z: timestamps up to here have the fixed width the encoder writes. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999

/**
 * Encodes batches as query-log lines (a ServiceLogRecord and a newline each), straight into
 * bytes: statement texts and units are encoded once and copied (a service runs a few hundred
 * texts over and over, and a request's statements share its unit), timestamps' date and time
 * once a second, numbers digit by digit.
 */
export class QueryLogEncoder {
  /** Statement texts by number, as JSON literals once encoded. */
  private texts: (string | undefined)[] = []
  private encodedTexts: (Buffer | undefined)[] = []
  private chunk = Buffer.allocUnsafe(64 * 1024)
  private length = 0
  private second = Number.NaN
  private readonly secondPrefix = Buffer.alloc(20) // 2024-05-01T12:00:00.

  /** The batch as JSON lines, in a buffer of the caller's. */
  encode(batch: QueryLogBatch): Buffer {
    if (batch.renumbered) {
      this.texts = []
      this.encodedTexts = []
    }
    for (let k = 0; k < batch.texts.length; k++) {
      this.texts[batch.firstText + k] = batch.texts[k]!
      this.encodedTexts[batch.firstText + k] = undefined
    }
    this.length = 0
    this.chunk = Buffer.allocUnsafe(Math.max(this.chunk.length, batch.count * 256))
    const encodedUnits = new Map<UnitRef, Buffer>()
    let nextExtras = 0
    for (let i = 0; i < batch.count; i++) {
      const extras = batch.extras[nextExtras]?.index === i ? batch.extras[nextExtras++] : undefined
      this.line(batch, i, encodedUnits, extras)
    }
    return this.chunk.subarray(0, this.length)
  }

  private line(batch: QueryLogBatch, i: number, encodedUnits: Map<UnitRef, Buffer>, extras: QueryLogExtras | undefined): void {
    this.ascii('{')
    let first = true
    const start = batch.starts[i]!
    if (start >= 0 && start <= LAST_FOUR_DIGIT_YEAR_MS) {
      this.ascii('"at":"')
      this.timestamp(start)
      this.ascii('Z"')
      first = false
    }
    const duration = batch.durations[i]!
    if (!Number.isNaN(duration)) {
      this.ascii(first ? '"durationMs":' : ',"durationMs":')
      this.milliseconds(duration)
      first = false
    }
    this.ascii(first ? '"sql":' : ',"sql":')
    this.bytesOf(this.textLiteral(batch.sqlIds[i]!))
    const rows = batch.rows[i]!
    if (!Number.isNaN(rows)) {
      this.ascii(',"rows":')
      if (Number.isSafeInteger(rows) && rows >= 0) this.integer(rows)
      else this.text(Number.isFinite(rows) ? String(rows) : 'null')
    }
    const unit = batch.units[i]
    if (unit) {
      let encoded = encodedUnits.get(unit)
      if (encoded === undefined) encodedUnits.set(unit, (encoded = Buffer.from(JSON.stringify(unitRecord(unit)))))
      this.ascii(',"unit":')
      this.bytesOf(encoded)
    }
    if (extras) {
      if (extras.session) this.field(',"session":', extras.session)
      if (extras.callSite) this.field(',"callSite":', extras.callSite)
      if (extras.error !== undefined) this.field(',"error":', extras.error)
      if (extras.errorCode) this.field(',"errorCode":', extras.errorCode)
      if (extras.params) {
        this.ascii(',"params":')
        this.text(JSON.stringify(extras.params))
      }
    }
    this.ascii('}\n')
  }

  private textLiteral(id: number): Buffer {
    let encoded = this.encodedTexts[id]
    if (encoded === undefined) {
      const text = this.texts[id]
      // A number the batcher never sent cannot happen; should it, the line still says so.
      encoded = Buffer.from(JSON.stringify(text ?? `<statement text ${id} missing>`))
      // A long text has a number of its own, used once: kept no longer than that.
      if (text !== undefined && text.length <= TEXT_MAX_LENGTH) this.encodedTexts[id] = encoded
      else this.texts[id] = undefined
    }
    return encoded
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.chunk.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.chunk.length * 2, this.length + bytes))
    this.chunk.copy(grown, 0, 0, this.length)
    this.chunk = grown
  }

  /** A short ASCII constant. */
  private ascii(text: string): void {
    this.reserve(text.length)
    for (let i = 0; i < text.length; i++) this.chunk[this.length++] = text.charCodeAt(i)
  }

  private bytesOf(bytes: Buffer): void {
    this.reserve(bytes.length)
    this.length += bytes.copy(this.chunk, this.length)
  }

  /** Any string, encoded as UTF-8 (at most three bytes per UTF-16 unit). */
  private text(text: string): void {
    this.reserve(text.length * 3)
    this.length += this.chunk.write(text, this.length, 'utf8')
  }

  private field(key: string, value: string): void {
    this.ascii(key)
    this.text(JSON.stringify(value))
  }

  private integer(value: number): void {
    let digits = 1
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++
    this.reserve(digits)
    this.length += digits
    let at = this.length
    do {
      this.chunk[--at] = DIGITS + (value % 10)
      value = Math.floor(value / 10)
    } while (value > 0)
  }

  /** Milliseconds to the microsecond, as JSON: `0.412`, `12`, `3.5`. */
  private milliseconds(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > 1e12) {
      this.text(Number.isFinite(ms) ? String(Math.round(ms * 1000) / 1000) : 'null')
      return
    }
    const micros = Math.round(ms * 1000)
    this.integer(Math.floor(micros / 1000))
    let fraction = micros % 1000
    if (fraction === 0) return
    this.reserve(4)
    this.chunk[this.length++] = 46 // '.'
    for (let divisor = 100; fraction > 0; divisor /= 10) {
      const digit = Math.floor(fraction / divisor)
      this.chunk[this.length++] = DIGITS + digit
      fraction -= digit * divisor
    }
  }

  /** `2024-05-01T12:00:00.123` (the caller adds `Z`), the date and time formatted once per second. */
  private timestamp(ms: number): void {
    const second = Math.floor(ms / 1000)
    if (second !== this.second) {
      this.second = second
      this.secondPrefix.write(new Date(second * 1000).toISOString().slice(0, 20), 0, 'latin1')
    }
    this.bytesOf(this.secondPrefix)
    const millis = Math.floor(ms - second * 1000)
    this.reserve(3)
    this.chunk[this.length++] = DIGITS + Math.floor(millis / 100)
    this.chunk[this.length++] = DIGITS + (Math.floor(millis / 10) % 10)
    this.chunk[this.length++] = DIGITS + (millis % 10)
  }
}

/** A unit as the log records it: its own fields only, in a fixed order. */
function unitRecord(unit: UnitRef): UnitRef {
  return {
    kind: unit.kind,
    id: unit.id,
    ...(unit.label !== undefined ? { label: unit.label } : {}),
    ...(unit.traceId !== undefined ? { traceId: unit.traceId } : {}),
  }
}

/** Appends all of `bytes`: a write may be short (a signal, a nearly full disk). */
export function writeFully(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset)
}
