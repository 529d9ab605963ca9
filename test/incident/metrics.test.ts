import { describe, expect, it } from 'vitest'
import { computeMetrics, formatSpan, replayIncidents, type IncidentMetric } from './internals.js'
import { timeline } from './fixtures.js'

const { incident } = timeline('2026-11-25T14:00:00.000Z')
const inc = incident('INC-20261125-AAAA')

function metrics(...events: Parameters<typeof replayIncidents>[0] extends Iterable<infer E> ? E[] : never): Record<string, IncidentMetric> {
  const [state] = replayIncidents(events).incidents
  return Object.fromEntries(computeMetrics(state!).map((metric) => [metric.name, metric]))
}

const MINUTE = 60_000

describe('response figures', () => {
  it('measure detect, acknowledge, mitigate and recover from the recorded times', () => {
    const figures = metrics(inc.opened(0, { impactStartedAt: '2026-11-25T13:52:00Z' }), inc.ack(3), inc.mitigated(12), inc.resolved(45))
    expect(figures.timeToDetect).toMatchObject({ ms: 8 * MINUTE, from: { point: 'impact start' }, to: { point: 'declaration' } })
    expect(figures.timeToAcknowledge).toMatchObject({ ms: 3 * MINUTE, from: { point: 'declaration' }, to: { point: 'acknowledgement' } })
    expect(figures.timeToMitigate).toMatchObject({ ms: 20 * MINUTE, from: { point: 'impact start' }, to: { point: 'mitigation' } })
    expect(figures.timeToRecover).toMatchObject({ ms: 53 * MINUTE, to: { point: 'resolution' } })
    for (const figure of Object.values(figures)) expect(figure.note).toBeUndefined()
  })

  it('measure from the declaration when the impact start is unknown, and say so', () => {
    const figures = metrics(inc.opened(0), inc.ack(1), inc.mitigated(10), inc.resolved(30))
    expect(figures.timeToDetect!.ms).toBeUndefined()
    expect(figures.timeToDetect!.note).toMatch(/impact start not recorded/)
    expect(figures.timeToMitigate).toMatchObject({ ms: 10 * MINUTE, note: expect.stringMatching(/measured from the declaration/) })
    expect(figures.timeToRecover!.ms).toBe(30 * MINUTE)
  })

  it('take the resolution as the end of impact when no mitigation was recorded', () => {
    const figures = metrics(inc.opened(0), inc.resolved(25))
    expect(figures.timeToMitigate).toMatchObject({
      ms: 25 * MINUTE,
      to: { point: 'resolution' },
      note: expect.stringMatching(/no mitigation recorded/),
    })
    expect(figures.timeToAcknowledge).toMatchObject({ note: 'not acknowledged' })
    expect(figures.timeToAcknowledge!.ms).toBeUndefined()
  })

  it('are not known yet for an open incident, and not at all for a cancelled one', () => {
    expect(metrics(inc.opened(0)).timeToRecover!.note).toBe('not resolved yet')
    expect(metrics(inc.opened(0), inc.cancelled(2)).timeToMitigate!.note).toBe('the incident was cancelled')
  })

  it('keep the sign of a span made negative by clock skew between two terminals', () => {
    expect(metrics(inc.opened(5), inc.ack(4)).timeToAcknowledge!.ms).toBe(-MINUTE)
  })
})

describe('formatSpan', () => {
  it.each([
    [850, '850ms'],
    [12_000, '12s'],
    [4 * MINUTE + 10_000, '4m 10s'],
    [62 * MINUTE + 5_000, '1h 02m 05s'],
    [-90_000, '-1m 30s'],
  ])('%d ms is %s', (ms, text) => expect(formatSpan(ms)).toBe(text))
})
