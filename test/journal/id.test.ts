import { describe, expect, it } from 'vitest'
import { createIdGenerator, idTime } from '../../src/journal/index.js'
import { EVENT_ID_PATTERN, isEventId } from '../../src/journal/id.js'

describe('event ids', () => {
  it('are 26-character ULIDs that carry their millisecond', () => {
    const id = createIdGenerator().next(Date.parse('2026-05-01T10:00:00.123Z'))
    expect(id).toMatch(EVENT_ID_PATTERN)
    expect(idTime(id)).toBe(Date.parse('2026-05-01T10:00:00.123Z'))
  })

  it('sort as strings in time order across milliseconds', () => {
    const ids = createIdGenerator()
    const times = [5, 1_000, 1_001, 86_400_000, 1_700_000_000_000, 2 ** 47]
    const made = times.map((time) => ids.next(time))
    expect([...made].sort()).toEqual(made)
    expect(made.map(idTime)).toEqual(times)
  })

  it('increase strictly within one millisecond of one process', () => {
    const ids = createIdGenerator()
    const made = Array.from({ length: 5000 }, () => ids.next(1_700_000_000_000))
    expect(new Set(made).size).toBe(made.length)
    expect([...made].sort()).toEqual(made)
  })

  it('keep increasing when the clock steps back', () => {
    const ids = createIdGenerator()
    const first = ids.next(2_000_000)
    const second = ids.next(1_000_000)
    expect(second > first).toBe(true)
  })

  it('carry the increment across random bytes, and borrow the next millisecond when they run out', () => {
    const ids = createIdGenerator((bytes) => bytes.fill(255))
    const first = ids.next(1000)
    const second = ids.next(1000)
    expect(second > first).toBe(true)
    expect(idTime(second)).toBe(1001)
  })

  it('are unique across generators (processes) in one millisecond', () => {
    const made = Array.from({ length: 200 }, () => createIdGenerator().next(1_700_000_000_000))
    expect(new Set(made).size).toBe(made.length)
  })

  it('are recognised, and other strings are not', () => {
    expect(isEventId(createIdGenerator().next(0))).toBe(true)
    expect(isEventId('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true)
    expect(isEventId('01arz3ndektsv4rrffq69g5fav')).toBe(false)
    expect(isEventId('01ARZ3NDEKTSV4RRFFQ69G5FA')).toBe(false)
    expect(isEventId('01ARZ3NDEKTSV4RRFFQ69G5FAI')).toBe(false)
  })

  it('give an event with its own (backdated) time an id of that time, so it sorts before newer events', () => {
    const ids = createIdGenerator()
    const now = ids.next(Date.parse('2026-12-05T12:00:00.000Z'))
    const threeHoursAgo = ids.at(Date.parse('2026-12-05T09:00:00.000Z'))
    const sameMillisecond = ids.at(Date.parse('2026-12-05T09:00:00.000Z'))
    expect(idTime(threeHoursAgo)).toBe(Date.parse('2026-12-05T09:00:00.000Z'))
    expect([now, sameMillisecond, threeHoursAgo].sort()).toEqual([threeHoursAgo, sameMillisecond, now])
  })
})
