import { describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/index.js'
import { parseJournalFilter, parseTimeBound } from '../../src/journal/index.js'
import { kindMatches, matchesFilter } from '../../src/journal/filter.js'
import { event, testContext } from './fixtures.js'

const clock = fixedClock('2026-05-01T12:00:00.000Z')

describe('journal filters', () => {
  it('match a namespace with its kinds, and a kind only itself', () => {
    expect(kindMatches('deploy.step', ['deploy'])).toBe(true)
    expect(kindMatches('deploy.verdict', ['deploy', 'flag'])).toBe(true)
    expect(kindMatches('deployment.step', ['deploy'])).toBe(false)
    expect(kindMatches('deploy', ['deploy.step'])).toBe(false)
    expect(kindMatches('note', ['note'])).toBe(true)
    expect(kindMatches('incident.note', ['note'])).toBe(false)
  })

  it('read --since as a duration back from now or an ISO time', () => {
    expect(parseTimeBound('2h', clock, 'since')).toBe(Date.parse('2026-05-01T10:00:00.000Z'))
    expect(parseTimeBound('90m', clock, 'since')).toBe(Date.parse('2026-05-01T10:30:00.000Z'))
    expect(parseTimeBound('2026-04-30T08:00:00Z', clock, 'since')).toBe(Date.parse('2026-04-30T08:00:00Z'))
    expect(parseTimeBound('2026-04-30T10:00:00+02:00', clock, 'since')).toBe(Date.parse('2026-04-30T08:00:00Z'))
    expect(() => parseTimeBound('yesterday', clock, 'since')).toThrow(/Invalid --since/)
    expect(() => parseTimeBound('2026-13-45', clock, 'since')).toThrow(/Invalid time/)
  })

  it('refuse a since after the until, and kinds that are not kinds', () => {
    expect(() => parseJournalFilter({ since: '1h', until: '2h' }, clock)).toThrow(/before --until/)
    expect(() => parseJournalFilter({ kind: ['Deploy!'] }, clock)).toThrow(/Invalid kind/)
  })

  it('accept deploy.* as the namespace deploy and drop duplicates', () => {
    expect(parseJournalFilter({ kind: ['deploy.*', 'deploy', 'flag'], subject: ['api', 'api'] }, clock)).toEqual({
      kinds: ['deploy', 'flag'],
      subjects: ['api'],
    })
  })

  it('select events by kind, subject and time (since inclusive, until exclusive)', () => {
    const step = event({ kind: 'deploy.step', subject: 'api', data: { step: 1, weight: 10 } }, testContext('2026-05-01T11:00:00.000Z'))
    const flag = event(
      { kind: 'flag.changed', subject: 'checkout', data: { flag: 'v2', change: 'enabled' } },
      testContext('2026-05-01T09:00:00.000Z'),
    )
    const filter = parseJournalFilter({ since: '2h', kind: ['deploy'] }, clock)
    expect(matchesFilter(step, filter)).toBe(true)
    expect(matchesFilter(flag, filter)).toBe(false)
    expect(matchesFilter(flag, parseJournalFilter({ subject: ['checkout'] }, clock))).toBe(true)
    expect(matchesFilter(step, { since: Date.parse(step.time) })).toBe(true)
    expect(matchesFilter(step, { until: Date.parse(step.time) })).toBe(false)
  })
})
