import { describe, expect, it } from 'vitest'
import { isOpsError } from '../../src/core/index.js'
import { findIncidentByRef, incidentIdFor, parseActionItems, planTransition, replayIncidents, type Incident } from './internals.js'
import { timeline } from './fixtures.js'

function replayOne(events: Parameters<typeof replayIncidents>[0]): Incident {
  const { incidents } = replayIncidents(events)
  expect(incidents).toHaveLength(1)
  return incidents[0]!
}

function refusal(run: () => unknown): { message: string; exit: number } {
  try {
    run()
  } catch (error) {
    if (isOpsError(error)) return { message: error.message, exit: error.exit }
    throw error
  }
  throw new Error('expected a refusal')
}

describe('incident replay', () => {
  const { incident, event } = timeline()
  const inc = incident('INC-20261125-AAAA')

  it('folds the lifecycle into state, with times, roles, notes and action items', () => {
    const state = replayOne([
      inc.opened(0, { service: 'api', commander: 'alice', impactStartedAt: '2026-11-25T13:55:00Z' }),
      inc.role(1, 'scribe', 'carol'),
      inc.ack(2),
      inc.note(3, 'Rolled back v42\nTODO(dave): alert on pool saturation\n- TODO: add an index on items.sku'),
      inc.mitigated(7, 'flag killed'),
      inc.resolved(20, 'pool size fixed'),
    ])
    expect(state).toMatchObject({
      id: 'INC-20261125-AAAA',
      title: 'Checkout errors',
      severity: 'SEV2',
      service: 'api',
      status: 'resolved',
      impactStartedAt: '2026-11-25T13:55:00.000Z',
      acknowledgedAt: '2026-11-25T14:02:00.000Z',
      acknowledgedBy: 'bob',
      mitigatedAt: '2026-11-25T14:07:00.000Z',
      mitigation: 'flag killed',
      resolvedAt: '2026-11-25T14:20:00.000Z',
      resolution: 'pool size fixed',
      roles: { commander: 'alice', scribe: 'carol' },
    })
    expect(state.responders).toEqual(['alice', 'carol', 'bob'])
    expect(state.actionItems.map((item) => [item.text, item.owner])).toEqual([
      ['alert on pool saturation', 'dave'],
      ['add an index on items.sku', undefined],
    ])
    expect(state.anomalies).toEqual([])
  })

  it('keeps incidents apart by their link, and ignores events of no incident', () => {
    const other = incident('INC-20261125-BBBB')
    const { incidents } = replayIncidents([
      inc.opened(0),
      other.opened(1, { title: 'Other' }),
      event(2, { kind: 'note', data: { message: 'unrelated' } }),
      other.ack(3),
    ])
    expect(incidents.map((entry) => [entry.id, entry.status])).toEqual([
      ['INC-20261125-AAAA', 'open'],
      ['INC-20261125-BBBB', 'acknowledged'],
    ])
  })

  it('reads incident events appended by hand with the id as subject', () => {
    const { incidents } = replayIncidents([
      event(0, { kind: 'incident.opened', subject: 'INC-7', data: { title: 'Errors', severity: 'sev1' } }),
    ])
    expect(incidents[0]).toMatchObject({ id: 'INC-7', severity: 'SEV1' })
  })

  it('keeps both of two concurrent acts, whatever order they land in', () => {
    const opened = inc.opened(0)
    const note = inc.note(1, 'looking at the pool', 'carol')
    const ack = inc.ack(1, 'bob')
    for (const order of [
      [opened, note, ack],
      [opened, ack, note],
      [note, opened, ack],
    ]) {
      const state = replayOne(order)
      expect(state.status).toBe('acknowledged')
      expect(state.notes.map((entry) => entry.message)).toEqual(['looking at the pool'])
    }
  })

  it('never goes backwards: a late acknowledgement leaves a mitigated incident mitigated', () => {
    const state = replayOne([inc.opened(0), inc.mitigated(5), inc.ack(6)])
    expect(state.status).toBe('mitigated')
    expect(state.acknowledgedAt).toBe('2026-11-25T14:06:00.000Z')
  })

  it('lists events that make no sense in their place as anomalies instead of failing', () => {
    const state = replayOne([inc.opened(0), inc.cancelled(1, 'false alarm'), inc.ack(2), inc.resolved(3), inc.opened(4)])
    expect(state.status).toBe('cancelled')
    expect(state.cancelReason).toBe('false alarm')
    expect(state.acknowledgedAt).toBeUndefined()
    expect(state.anomalies).toHaveLength(3)
    expect(state.anomalies[0]).toMatch(/incident.acknowledged .* ignored: it was cancelled/)
  })

  it('reports events of an incident that was never declared as orphans', () => {
    const { incidents, orphans } = replayIncidents([inc.note(1, 'hello')])
    expect(incidents).toEqual([])
    expect(orphans).toEqual([{ id: 'INC-20261125-AAAA', events: 1 }])
  })

  it('survives hostile data: wrong types and unknown severities', () => {
    // As a store might hold it (copied from elsewhere, written by an older tool): not through the kind's schema.
    const opened = inc.opened(0)
    const hostile = {
      ...opened,
      data: {
        title: 'x',
        severity: 'urgent!!',
        impactStartedAt: 'yesterday',
        alerts: [null, { name: 5 }, { name: 'HighLatency' }],
        runbooks: [1, 'high-latency'],
      },
    }
    const state = replayOne([hostile, { ...inc.note(1, 'x'), data: { message: 42 } }])
    expect(state.severity).toBeUndefined()
    expect(state.severityText).toBe('urgent!!')
    expect(state.impactStartedAt).toBeUndefined()
    expect(state.alerts).toMatchObject([{ name: 'HighLatency', status: 'firing', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) }])
    expect(state.runbooks).toEqual(['high-latency'])
    expect(state.notes).toEqual([])
    expect(state.anomalies).toEqual([
      expect.stringMatching(/^incident\.opened at .*: its data does not fit the kind/),
      expect.stringMatching(/a note without a message/),
    ])
  })
})

describe('action items', () => {
  it('takes TODO lines, with an owner in parentheses or from --owner', () => {
    expect(parseActionItems('fixed it\nTODO: write the alert\n  todo(@dave): raise the pool\nnot a TODO: here', { owner: 'ops' })).toEqual([
      { text: 'write the alert', owner: 'ops' },
      { text: 'raise the pool', owner: 'dave' },
    ])
    expect(parseActionItems('TODO:')).toEqual([])
  })

  it('takes a priority and a type, as the Google SRE template has them, in any order, or from the note', () => {
    expect(
      parseActionItems('TODO(P1, prevent): cap the pool\nTODO(detect, @dave, p2): page on saturation\nTODO: write it up', {
        priority: 'P3',
        type: 'process',
      }),
    ).toEqual([
      { text: 'cap the pool', priority: 'P1', type: 'prevent' },
      { text: 'page on saturation', owner: 'dave', priority: 'P2', type: 'detect' },
      { text: 'write it up', priority: 'P3', type: 'process' },
    ])
  })
})

describe('transitions', () => {
  const { incident } = timeline()
  const inc = incident('INC-20261125-AAAA')
  const state = (...events: Array<ReturnType<typeof inc.opened>>) => replayOne([inc.opened(0), ...events])

  it('allows going forward, and skipping states', () => {
    expect(planTransition(state(), 'acknowledge', 'bob')).toEqual({ write: true, kind: 'incident.acknowledged' })
    expect(planTransition(state(), 'resolve', 'bob')).toEqual({ write: true, kind: 'incident.resolved' })
    expect(planTransition(state(inc.ack(1)), 'cancel', 'bob')).toEqual({ write: true, kind: 'incident.cancelled' })
  })

  it('is idempotent for the state it is already in', () => {
    expect(planTransition(state(inc.ack(1, 'bob')), 'acknowledge', 'bob')).toMatchObject({
      write: false,
      message: expect.stringMatching(/already acknowledged/),
    })
    expect(planTransition(state(inc.mitigated(1)), 'mitigate', 'bob')).toMatchObject({ write: false })
    expect(planTransition(state(inc.resolved(1)), 'resolve', 'bob')).toMatchObject({ write: false })
    expect(planTransition(state(inc.cancelled(1)), 'cancel', 'bob')).toMatchObject({ write: false })
  })

  it('refuses a second acknowledgement by someone else, naming who has it (exit 1)', () => {
    const refused = refusal(() => planTransition(state(inc.ack(1, 'bob')), 'acknowledge', 'carol'))
    expect(refused).toEqual({ exit: 1, message: expect.stringMatching(/already acknowledged by bob/) })
  })

  it('refuses going back and acting on closed incidents (exit 1)', () => {
    expect(refusal(() => planTransition(state(inc.mitigated(1)), 'acknowledge', 'bob'))).toEqual({
      exit: 1,
      message: expect.stringMatching(/already mitigated/),
    })
    expect(refusal(() => planTransition(state(inc.cancelled(1)), 'resolve', 'bob'))).toEqual({
      exit: 1,
      message: expect.stringMatching(/was cancelled .* cannot be resolved/),
    })
    expect(refusal(() => planTransition(state(inc.resolved(1)), 'cancel', 'bob'))).toEqual({
      exit: 1,
      message: expect.stringMatching(/cannot be cancelled/),
    })
    expect(refusal(() => planTransition(state(inc.resolved(1)), 'mitigate', 'bob')).exit).toBe(1)
  })
})

describe('incident ids', () => {
  const eventId = '01M89GBSA43BFND3YB5B1ZMKR6'

  it('are the UTC day and the first random characters of the opening event', () => {
    expect(incidentIdFor(eventId)).toMatch(/^INC-\d{8}-3BFN$/)
  })

  it('grow longer instead of repeating an id already taken', () => {
    const first = incidentIdFor(eventId)
    expect(incidentIdFor(eventId, new Set([first]))).toBe(`${first}D`)
  })

  it('differ for two declarations in the same millisecond', () => {
    const ids = new Set(['01M89GBSA4AAAAAAAAAAAAAAAA', '01M89GBSA4ZZZZZZZZZZZZZZZZ'].map((id) => incidentIdFor(id)))
    expect(ids.size).toBe(2)
  })

  it('are found by the whole id in any case, or by the last part alone', () => {
    const incidents = [{ id: 'INC-20261125-7KQ2' }, { id: 'INC-20261126-X9P1' }]
    expect(findIncidentByRef(incidents, 'inc-20261125-7kq2').id).toBe('INC-20261125-7KQ2')
    expect(findIncidentByRef(incidents, 'x9p1').id).toBe('INC-20261126-X9P1')
    expect(refusal(() => findIncidentByRef(incidents, 'nope'))).toEqual({ exit: 2, message: 'No incident "nope" in the journal' })
  })
})
