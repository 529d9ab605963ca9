import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ExitCode, fixedClock, loadConfig, type Settings } from '../../src/core/index.js'
import { appendEvents, copyJournal, listJournal, recordEvent, type JournalEvent } from '../../src/journal/index.js'
import { tempDir, type TempDir } from './fixtures.js'

let dir: TempDir
let settings: Settings
beforeEach(() => {
  dir = tempDir()
  settings = loadConfig({ cwd: dir.path, env: {}, overrides: { 'journal.dir': 'journal', 'service.name': 'checkout' } })
})
afterEach(() => dir.remove())

const env = { OPSCTL_ACTOR: 'tester' }

async function listed(filter = {}): Promise<JournalEvent[]> {
  const events: JournalEvent[] = []
  await listJournal(settings, filter, { onEvent: (event) => void events.push(event) })
  return events
}

async function* linesOf(...chunks: string[]): AsyncIterable<string> {
  for (const chunk of chunks) yield chunk
}

const line = (message: string, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ kind: 'note', subject: 'api', data: { message }, ...extra })}\n`

describe('appending', () => {
  it('one event from flags: subject defaults to service.name, links and data parsed, the id acknowledged', async () => {
    const acked: string[] = []
    const summary = await appendEvents(
      settings,
      { event: { kind: 'deploy.step', data: '{"step":1,"weight":5}', links: ['rollout=R-1', 'commit=abc'] } },
      { env, clock: fixedClock('2026-06-01T00:00:00.000Z'), onAck: (events) => acked.push(...events.map((e) => e.id)) },
    )
    expect(summary).toMatchObject({ store: 'files', location: join(dir.path, 'journal'), appended: 1, skipped: 0, ids: acked })
    expect(await listed()).toEqual([
      {
        v: 1,
        id: acked[0],
        time: '2026-06-01T00:00:00.000Z',
        kind: 'deploy.step',
        actor: 'tester',
        subject: 'checkout',
        links: { rollout: 'R-1', commit: 'abc' },
        data: { step: 1, weight: 5 },
      },
    ])
  })

  it('a batch with backdated times is listed in the order the events happened, not the order they were appended', async () => {
    const input =
      line('now', { time: '2026-12-05T12:00:00.000Z' }) +
      line('three hours ago', { kind: 'deploy.step', data: { step: 1, weight: 5 }, time: '2026-12-05T09:00:00.000Z' }) +
      line('one hour ago', { time: '2026-12-05T11:00:00.000Z' })
    await appendEvents(settings, { lines: linesOf(input) }, { env, clock: fixedClock('2026-12-05T12:00:01.000Z') })
    expect((await listed()).map((event) => event.time)).toEqual([
      '2026-12-05T09:00:00.000Z',
      '2026-12-05T11:00:00.000Z',
      '2026-12-05T12:00:00.000Z',
    ])
  })

  it.each([
    [{ kind: 'note', data: '{oops' }, /--data is not valid JSON/],
    [{ kind: 'note', data: '[1]' }, /--data must be a JSON object/],
    [{ kind: 'note', message: 'x', links: ['incident'] }, /Invalid --link "incident"/],
    [{ kind: 'note' }, /missing field "data.message"/],
    [{ kind: 'nope', subject: 'api' }, /unknown kind "nope"/],
  ])('refuses bad flags %j with exit 2', async (event, message) => {
    await expect(appendEvents(settings, { event }, { env })).rejects.toMatchObject({
      exit: ExitCode.BadInput,
      message: expect.stringMatching(message),
    })
    expect(await listed()).toEqual([])
  })

  it('acknowledges a batch chunk by chunk, after validating all of it', async () => {
    const acks: number[] = []
    const input = Array.from({ length: 25 }, (_, i) => line(`event ${i}`)).join('')
    const summary = await appendEvents(
      settings,
      { lines: linesOf(input.slice(0, 100), input.slice(100)), chunk: 10 },
      { env, onAck: (events) => acks.push(events.length) },
    )
    expect(acks).toEqual([10, 10, 5])
    expect(summary.appended).toBe(25)
    expect((await listed()).map((e) => e.data.message)).toEqual(Array.from({ length: 25 }, (_, i) => `event ${i}`))
  })

  it('refuses the whole batch for one bad line, listing every bad line', async () => {
    const input = [line('ok'), '{"kind":"note"}\n', line('ok'), 'nope\n'].join('')
    await expect(appendEvents(settings, { lines: linesOf(input) }, { env })).rejects.toMatchObject({
      exit: ExitCode.BadInput,
      message: expect.stringMatching(/2 bad lines, nothing was written\.\n {2}line 2: missing field "subject"\n {2}line 4: not valid JSON/),
    })
    expect(await listed()).toEqual([])
  })

  it('refuses an empty input', async () => {
    await expect(appendEvents(settings, { lines: linesOf('\n\n') }, { env })).rejects.toMatchObject({
      exit: ExitCode.BadInput,
      message: 'No events on stdin',
    })
  })

  it('skips events whose ids are already in the journal, so a retried import adds nothing', async () => {
    const input = [line('a', { id: '01M89CS8292GR4JKV68WJHM9B1' }), line('b', { id: '01M89CS8292GR4JKV68WJHM9B2' })].join('')
    expect(await appendEvents(settings, { lines: linesOf(input) }, { env })).toMatchObject({ appended: 2, skipped: 0 })
    expect(await appendEvents(settings, { lines: linesOf(input) }, { env })).toMatchObject({ appended: 0, skipped: 2 })
    expect(await listed()).toHaveLength(2)
  })

  it('with stream, writes and acknowledges what has arrived before waiting for more', async () => {
    const acked: string[] = []
    let ackedBeforeSecondPart = -1
    async function* slowly() {
      yield line('first') + line('second')
      ackedBeforeSecondPart = acked.length
      yield line('third')
    }
    await appendEvents(settings, { lines: slowly(), stream: true }, { env, onAck: (events) => acked.push(...events.map((e) => e.id)) })
    expect(ackedBeforeSecondPart).toBe(2)
    expect(acked).toHaveLength(3)
  })

  it('records an event for other modules, filling id, time and actor', async () => {
    const recorded = await recordEvent(
      settings,
      { kind: 'gate.verdict', subject: 'api', data: { verdict: 'fail', failed: ['p99'] }, links: { commit: 'abc' } },
      { env },
    )
    expect(recorded).toMatchObject({ kind: 'gate.verdict', actor: 'tester', data: { verdict: 'fail', failed: ['p99'] } })
    expect(await listed({ kinds: ['gate'] })).toEqual([recorded])
    await expect(recordEvent(settings, { kind: 'gate.verdict', subject: 'api', data: { verdict: 'maybe' } })).rejects.toMatchObject({
      exit: ExitCode.BadInput,
    })
  })

  it('refuses to copy a journal onto itself', async () => {
    const at = join(dir.path, 'journal')
    await expect(copyJournal(at, `${at}/.`, { durable: true, segmentSize: 1e6 })).rejects.toMatchObject({
      exit: ExitCode.BadInput,
      message: expect.stringMatching(/same journal/),
    })
  })
})
