import { randomFillSync } from 'node:crypto'

/**
 * Event ids are ULIDs: 48 bits of milliseconds since the epoch, then 80 random bits, in
 * Crockford base32 (26 characters). They sort as strings in time order, so files, the
 * PostgreSQL primary key and k-way merges all order by the id alone. Within one process
 * ids are strictly increasing, even within one millisecond or when the clock steps back.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const TIME_CHARS = 10
const RANDOM_BYTES = 10
const MAX_TIME = 2 ** 48 - 1

export const EVENT_ID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

export interface IdGenerator {
  /** A new id for an event happening now (clock time `timeMs`); never smaller than the previous one of this generator. */
  next(timeMs: number): string
  /**
   * A new id for an event with a time of its own (backdated, imported): it carries exactly that
   * millisecond, so the event sorts by its time, not by when it was appended. Ids of one
   * millisecond still increase.
   */
  at(timeMs: number): string
}

/** How many distinct milliseconds `at` remembers for increasing ids within one of them. */
const RECENT_TIMES = 1024

export function createIdGenerator(fillRandom: (bytes: Uint8Array) => void = randomFillSync): IdGenerator {
  let lastTime = -1
  const random = new Uint8Array(RANDOM_BYTES)
  const recent = new Map<number, Uint8Array>()
  return {
    next(timeMs) {
      let time = checkedTime(timeMs)
      if (time <= lastTime) {
        time = lastTime
        if (!increment(random)) time = lastTime + 1 // 2^80 ids in one millisecond: borrow the next one
      } else {
        fillRandom(random)
      }
      lastTime = time
      return encodeTime(time) + encodeRandom(random)
    },
    at(timeMs) {
      const time = checkedTime(timeMs)
      let bytes = recent.get(time)
      if (bytes && increment(bytes)) {
        recent.delete(time) // re-inserted below: most recently used last
      } else {
        bytes = new Uint8Array(RANDOM_BYTES)
        fillRandom(bytes)
      }
      recent.set(time, bytes)
      if (recent.size > RECENT_TIMES) recent.delete(recent.keys().next().value!)
      return encodeTime(time) + encodeRandom(bytes)
    },
  }
}

function checkedTime(timeMs: number): number {
  const time = Math.floor(timeMs)
  if (time < 0 || time > MAX_TIME || !Number.isFinite(time)) throw new RangeError(`Time ${timeMs} is out of range for an event id`)
  return time
}

/** The millisecond an id was made at. */
export function idTime(id: string): number {
  let time = 0
  for (let i = 0; i < TIME_CHARS; i++) time = time * 32 + ALPHABET.indexOf(id[i] ?? '0')
  return time
}

export function isEventId(text: string): boolean {
  return EVENT_ID_PATTERN.test(text)
}

function encodeTime(time: number): string {
  let out = ''
  let rest = time
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[rest % 32]! + out
    rest = Math.floor(rest / 32)
  }
  return out
}

/** 80 bits -> 16 characters of 5 bits, most significant first. */
function encodeRandom(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(buffer >> (bits - 5)) & 31]!
      bits -= 5
    }
    buffer &= (1 << bits) - 1
  }
  return out
}

/** Adds one to the big-endian number; false when it wrapped around. */
function increment(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 255) {
      bytes[i]! += 1
      return true
    }
    bytes[i] = 0
  }
  return false
}
