import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { registeredEventKinds } from '../../src/cli/event-catalog.js'
import { summarizeEvent, summarizeEventData } from '../../src/journal/index.js'
import { buildEvent, journalEventSchema } from '../../src/journal/event.js'
import { event, testContext } from './fixtures.js'

const reasonOf = (input: unknown) => {
  const built = buildEvent(input, testContext())
  return built.ok ? undefined : built.reason
}

describe('building an event', () => {
  it('fills id, time, actor, links and the schema version', () => {
    const built = event({ kind: 'note', subject: 'api', data: { message: 'hello' } }, testContext('2026-01-02T03:04:05.000Z', 'alice'))
    expect(built).toMatchObject({
      v: 1,
      time: '2026-01-02T03:04:05.000Z',
      kind: 'note',
      actor: 'alice',
      subject: 'api',
      links: {},
      data: { message: 'hello' },
    })
    expect(journalEventSchema.safeParse(built).success).toBe(true)
  })

  it('keeps a given id, time and actor, and writes the time in UTC with milliseconds', () => {
    const built = event({
      kind: 'note',
      id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      time: '2026-01-02T05:04:05+02:00',
      actor: 'ci',
      data: { message: 'x' },
    })
    expect(built).toMatchObject({ id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', time: '2026-01-02T03:04:05.000Z', actor: 'ci' })
  })

  it('refuses an unknown kind, and accepts own kinds under x.', () => {
    expect(reasonOf({ kind: 'deploy.exploded', subject: 'api' })).toMatch(/unknown kind "deploy.exploded"/)
    expect(reasonOf({ kind: 'backup', subject: 'db' })).toMatch(/unknown kind/)
    expect(reasonOf({ kind: 'x.backup.done', subject: 'db', data: { anything: [1, 2] } })).toBeUndefined()
  })

  it('names a missing field, a wrong type and an unknown field', () => {
    expect(reasonOf({ kind: 'note', data: { message: 'x' } })).toBe('missing field "subject"')
    expect(reasonOf({ kind: 'note', subject: 'api', data: {} })).toBe('missing field "data.message"')
    expect(reasonOf({ kind: 'deploy.step', subject: 'api', data: { step: 1, weight: 'half' } })).toMatch(/^data\.weight: expected number/)
    expect(reasonOf({ kind: 'note', subject: 'api', data: { message: 'x' }, colour: 'red' })).toBe('unknown field "colour"')
    expect(reasonOf({ kind: 'note', subject: 'api', data: { message: 'x' }, links: { Incident: 'INC-1' } })).toMatch(/links/)
    expect(reasonOf([1, 2])).toMatch(/expected object/)
  })

  it('lets fields through that a kind does not know yet', () => {
    const built = event({ kind: 'deploy.verdict', data: { verdict: 'fail', reason: 'p99 up 40%', judge: { u: 12, effect: 0.7 } } })
    expect(built.data).toEqual({ verdict: 'fail', reason: 'p99 up 40%', judge: { u: 12, effect: 0.7 } })
  })

  it('refuses an event larger than 1 MiB once written', () => {
    expect(reasonOf({ kind: 'note', subject: 'api', data: { message: 'x'.repeat(1024 * 1024) } })).toBe(
      'the event is larger than 1 MiB once written',
    )
  })

  it('refuses NUL characters, which PostgreSQL jsonb cannot store', () => {
    expect(reasonOf({ kind: 'note', subject: 'api', data: { message: 'a\u0000b' } })).toMatch(/data.message contains a NUL/)
  })

  it('redacts secrets and query parameter values before the event is written', () => {
    const built = event({
      kind: 'load.run',
      subject: 'api',
      links: { dashboard: 'https://grafana.example/d/1?orgId=1&token=abc' },
      data: {
        scenario: 'checkout',
        target: 'https://api.example/items?user=alice@example.com&limit=10',
        database: 'postgres://app:s3cret@db:5432/app',
        headers: { authorization: 'Bearer abcdefghijk' },
        params: ['alice@example.com', 42],
        note: 'password=hunter2 token: xyz',
      },
    })
    const text = JSON.stringify(built)
    for (const secret of ['s3cret', 'abcdefghijk', 'alice@example.com', 'hunter2', 'xyz', 'token=abc', 'limit=10', 'orgId=1'])
      expect(text).not.toContain(secret)
    expect(built.data.target).toBe('https://api.example/items?user=***&limit=***')
    expect(built.data.params).toBe('***')
    expect(built.data.database).toBe('postgres://app:***@db:5432/app')
  })

  it('stores JSON only: dates become strings and undefined disappears', () => {
    const built = event({ kind: 'x.test', data: { at: new Date('2026-01-01T00:00:00Z'), gone: undefined } })
    expect(built.data).toEqual({ at: '2026-01-01T00:00:00.000Z' })
  })
})

describe('the documented kinds', () => {
  const docs = readFileSync(new URL('../../docs/journal.md', import.meta.url), 'utf8')

  it.each(registeredEventKinds().map((kind) => [kind.kind, kind]))(
    '%s has a description, is in docs/journal.md and summarizes its data',
    (_name, kind) => {
      expect(kind.description.length).toBeGreaterThan(10)
      expect(docs).toContain(`\`${kind.kind}\``)
    },
  )

  it('summarize each kind in one line', () => {
    expect(summarizeEvent(event({ kind: 'deploy.step', data: { step: 2, weight: 25 }, links: { rollout: 'R-1' } }))).toBe(
      'step 2: 25% of traffic to the new version [rollout=R-1]',
    )
    expect(summarizeEvent(event({ kind: 'flag.changed', data: { flag: 'checkout-v2', change: 'enabled', from: false, to: true } }))).toBe(
      'checkout-v2 enabled: false -> true',
    )
    expect(summarizeEvent(event({ kind: 'incident.opened', subject: 'INC-7', data: { title: 'Checkout errors', severity: 'SEV2' } }))).toBe(
      'declared SEV2: Checkout errors',
    )
    expect(summarizeEvent(event({ kind: 'x.backup', data: { size: 3 } }))).toBe('{"size":3}')
    expect(summarizeEvent(event({ kind: 'note', data: { message: 'a\nb '.repeat(100) } })).length).toBeLessThanOrEqual(100)
  })

  it('words the data whole for the incident timelines: no links, not cut, nothing for x.* or refused data', () => {
    const message = 'Errors continue after the rollback\n' + 'x'.repeat(200)
    expect(summarizeEventData('incident.note', { message })).toBe(`note: ${message}`)
    expect(summarizeEventData('runbook.step', { runbook: 'high-latency', step: 'recent-changes', status: 'done', exitCode: 0 })).toBe(
      'runbook high-latency step recent-changes done, exit 0',
    )
    expect(summarizeEventData('x.backup', { size: 3 })).toBeUndefined()
    expect(summarizeEventData('incident.opened', { title: 'Checkout errors' })).toBeUndefined()
  })
})
