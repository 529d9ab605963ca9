import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isOpsError, loadConfig, type Settings } from '../../src/core/index.js'
import { OutputTail, runRunbookStep, type StepIO, type StepPlan } from './internals.js'
import { FileJournal } from '../../src/journal/file-store.js'
import { collect } from '../journal/fixtures.js'
import { runbookText, tempDir, type TempDir } from './fixtures.js'

let work: TempDir
let settings: Settings

beforeAll(() => {
  work = tempDir('opsctl-step-')
  mkdirSync(join(work.path, 'books'))
  work.write('opsctl.yaml', 'runbooks:\n  dirs: [books]\n')
  work.write(
    'books/drill.md',
    runbookText({
      id: 'drill',
      body: runbookText()
        .split('---\n')[2]!
        .replace('```sh step=check-usage\ndf -h /', '```sh step=touch\ntouch touched.txt\necho "$OPSCTL_RUNBOOK $OPSCTL_RUNBOOK_STEP"')
        .replace(
          '```sh step=clean-logs\necho cleaning',
          '```sh step=slow\nsleep 20\n```\n\n```sh step=fail\necho about to fail >&2\nexit 3',
        ),
    }),
  )
  settings = loadConfig({ cwd: work.path, env: { OPSCTL_JOURNAL_URL: '' } })
})
afterAll(() => work?.remove())

function io(confirm?: (question: string) => Promise<boolean>) {
  const shown: StepPlan[] = []
  const output = new PassThrough()
  let printed = ''
  output.on('data', (chunk: Buffer) => (printed += chunk.toString()))
  const value: StepIO = {
    show: (plan) => shown.push(plan),
    stdout: output,
    stderr: output,
    note: () => {},
    ...(confirm ? { confirm } : {}),
  }
  return { value, shown, printed: () => printed }
}

const request = { runbook: 'drill', step: 'touch', yes: false, timeoutMs: 30_000, env: { ...process.env, OPSCTL_ACTOR: 'erin' } }

async function recorded() {
  const store = new FileJournal({ dir: join(work.path, '.opsctl', 'journal'), durable: false, segmentSize: 1 << 20 })
  try {
    return await collect(store.read({ kinds: ['runbook.step'] }))
  } finally {
    await store.close()
  }
}

describe('running a runbook step', () => {
  it('shows the step, asks, and runs nothing when the answer is no', async () => {
    const asked: string[] = []
    const terminal = io(async (question) => (asked.push(question), false))
    const error = await runRunbookStep(settings, request, terminal.value).catch((caught: unknown) => caught)
    expect(isOpsError(error) && [error.exit, error.message]).toEqual([1, 'Not run: declined'])
    expect(terminal.shown.map((plan) => plan.step.name)).toEqual(['touch'])
    expect(asked).toEqual(['Run step 1 (touch)? [y/N] '])
    expect(existsSync(join(work.path, 'touched.txt'))).toBe(false)
    expect(await recorded()).toEqual([])
  })

  it('runs after a yes, in the project directory, and records it without an incident when none is open', async () => {
    const terminal = io(async () => true)
    const result = await runRunbookStep(settings, request, terminal.value)
    expect(result).toMatchObject({
      runbook: 'drill',
      step: { number: 1, name: 'touch' },
      status: 'done',
      exitCode: 0,
      outputTail: 'drill touch',
    })
    expect(result.incident).toBeUndefined()
    expect(existsSync(join(work.path, 'touched.txt'))).toBe(true)
    expect(terminal.printed()).toBe('drill touch\n')
    const [event] = await recorded()
    expect(event).toMatchObject({
      kind: 'runbook.step',
      subject: 'drill',
      actor: 'erin',
      links: { runbook: 'drill' },
      data: { exitCode: 0, status: 'done' },
    })
  })

  it('records a failing step with its exit code and output', async () => {
    const result = await runRunbookStep(settings, { ...request, step: 'fail', yes: true }, io().value)
    expect(result).toMatchObject({ status: 'failed', exitCode: 3, outputTail: 'about to fail' })
    const events = await recorded()
    expect(events.at(-1)!.data).toMatchObject({ step: 'fail', number: 3, status: 'failed', exitCode: 3, outputTail: 'about to fail' })
  })

  it('an unknown runbook or step is bad input (exit 2) naming what exists, before anything is shown', async () => {
    const terminal = io(async () => true)
    const unknownRunbook = await runRunbookStep(settings, { ...request, runbook: 'nope' }, terminal.value).catch((error: unknown) => error)
    expect(isOpsError(unknownRunbook) && [unknownRunbook.exit, unknownRunbook.message, unknownRunbook.hint]).toEqual([
      2,
      'No runbook "nope"',
      expect.stringContaining('drill'),
    ])
    const unknownStep = await runRunbookStep(settings, { ...request, step: '7' }, terminal.value).catch((error: unknown) => error)
    expect(isOpsError(unknownStep) && [unknownStep.exit, unknownStep.message, unknownStep.hint]).toEqual([
      2,
      'Runbook drill has no step "7"',
      expect.stringContaining('1 touch, 2 slow, 3 fail'),
    ])
    expect(terminal.shown).toEqual([])
  })

  it('stops a step that runs past its timeout, and records that', async () => {
    const result = await runRunbookStep(settings, { ...request, step: 'slow', yes: true, timeoutMs: 300 }, io().value)
    expect(result).toMatchObject({ status: 'timed-out', exitCode: null, signal: 'SIGTERM' })
  })
})

describe('the output tail', () => {
  it('keeps the last 40 lines, without colors, progress redraws or secrets', () => {
    const tail = new OutputTail()
    for (let i = 1; i <= 100; i++) tail.add(`line ${i}\n`)
    tail.add('\u001B[32mgreen\u001B[39m 10%\r50%\r100%\npostgres://app:s3cret@db/app\n')
    const lines = tail.text().split('\n')
    expect(lines).toHaveLength(40)
    expect(lines[0]).toBe('line 63')
    expect(lines.slice(-2)).toEqual(['100%', 'postgres://app:***@db/app'])
  })

  it('is bounded for a huge single line', () => {
    const tail = new OutputTail()
    tail.add('x'.repeat(1_000_000))
    expect(tail.text().length).toBeLessThanOrEqual(4000)
  })
})
