/** The dashboard's panels (live, empty, stale, not configured) and every key, with ink-testing-library. */
import { render } from 'ink-testing-library'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, vi } from 'vitest'
import { Dashboard } from '../../src/dashboard/main/Dashboard.js'
import { applyOutcome } from '../../src/dashboard/main/live.js'
import { emptyData, NotConfigured, sparkline, type DashboardData } from '../../src/dashboard/main/model.js'
import type { DashboardActions } from '../../src/dashboard/main/sources.js'

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1'
})

const NOW = Date.parse('2026-12-05T10:00:00Z')

async function until(check: () => boolean, frame?: () => string | undefined, timeoutMs = 5000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for the frame:\n${frame?.() ?? ''}`)
    await sleep(10)
  }
}

/** Every source answered: a canary at 20%, two flags, an incident, database pressure, the journal. */
function liveData(): DashboardData {
  let data = emptyData()
  const answer = (panel: keyof Omit<DashboardData, 'history'>, value: unknown, at = NOW) => {
    data = applyOutcome(data, panel, { data: value }, at)
  }
  for (const [index, rps] of [120, 140, 90].entries())
    answer(
      'traffic',
      {
        engine: 'builtin',
        backends: [
          { pool: 'default', backend: 'stable', weight: 80, up: true, rps, errorRate: 0, p50: 2.1, p99: 9.5 },
          { pool: 'default', backend: 'canary', weight: 20, up: true, rps: rps / 4, errorRate: 0.05, p50: 2.4, p99: 12 + index },
        ],
      },
      NOW - (2 - index) * 1000,
    )
  answer('deploy', [
    {
      id: 'api-3',
      strategy: 'canary',
      service: 'api',
      status: 'progressing',
      position: 'canary 20% · stable 80% · step 1/3',
      verdicts: [{ status: 'pass', weight: 20, line: 'canary 300 req 0 err p99 12.0ms · stable 1200 req 0 err p99 9.5ms' }],
    },
  ])
  answer('flags', [
    { name: 'checkout.v2', environments: { development: true, production: true }, stale: false, evaluations: 420 },
    { name: 'old.banner', environments: { development: false, production: false }, stale: true },
  ])
  answer('incidents', [
    {
      id: 'INC-20261205-AB12',
      title: 'Checkout errors',
      severity: 'SEV2',
      status: 'open',
      openedAt: new Date(NOW - 60_000).toISOString(),
      commander: 'alice',
      lastEntry: 'rolled back api-2',
    },
  ])
  answer('queries', {
    connections: '12 of 97 usable (12%)',
    waitingOnLocks: 2,
    statements: ['1.2s total · 40 calls · SELECT …'],
    findings: ['idle in transaction 45s'],
  })
  answer('journal', [
    { time: new Date(NOW - 5000).toISOString(), kind: 'deploy.step', subject: 'api', summary: 'step 1: 20% of traffic to the new version' },
  ])
  return data
}

function recordingActions(): DashboardActions & { calls: string[] } {
  const calls: string[] = []
  const done = (text: string) => async () => {
    calls.push(text)
    return `${text}: done`
  }
  return {
    calls,
    promote: async (id) => done(`promote ${id}`)(),
    abort: async (id) => done(`abort ${id}`)(),
    killFlag: async (name) => done(`kill ${name}`)(),
    declareIncident: async (title, severity) => done(`incident ${title} ${severity}`)(),
    note: async (id, text) => done(`note ${id} ${text}`)(),
  }
}

function show(data: DashboardData, actions = recordingActions()) {
  const view = render(<Dashboard data={data} actions={actions} colors={false} now={() => NOW} />)
  return { ...view, actions }
}

describe('the dashboard panels', () => {
  it('live: numbers, sparklines, the rollout and its verdict, flags, incidents, database and journal', () => {
    const { lastFrame, unmount } = show(liveData())
    const frame = lastFrame()!
    expect(frame).toMatch(/Traffic · live/)
    expect(frame).toMatch(/stable\s+80%\s+90\.0 rps/)
    expect(frame).toMatch(/canary\s+20%\s+22\.5 rps \S+ err\s+5\.0% p50\s+2\.4 p99\s+14\.0ms/)
    expect(frame).toContain(sparkline([30, 35, 22.5], 12))
    expect(frame).toContain('api-3 canary: progressing')
    expect(frame).toContain('canary 20% · stable 80% · step 1/3')
    expect(frame).toContain('checkout.v2 deve:on prod:on')
    expect(frame).toContain('old.banner deve:off prod:off STALE')
    expect(frame).toContain('SEV2 INC-20261205-AB12 open · Che') // 38 columns a panel at 80
    expect(frame).toContain('12 of 97 usable (12%) · 2 waiting')
    expect(frame).toContain('deploy.step api: step 1: 20% of traffic')
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80)
    expect(frame.split('\n').length).toBeLessThanOrEqual(24)
    expect(frame).not.toMatch(/\u001B\[/)
    unmount()
  })

  it('empty: says there is nothing rather than showing made-up rows', () => {
    let data = emptyData()
    for (const [panel, value] of [
      ['deploy', []],
      ['flags', []],
      ['incidents', []],
    ] as const)
      data = applyOutcome(data, panel, { data: value }, NOW)
    data = applyOutcome(data, 'traffic', { error: new NotConfigured('no router here: start one (opsctl router start)') }, NOW)
    const { lastFrame, unmount } = show(data)
    const frame = lastFrame()!
    expect(frame).toMatch(/Traffic · not configured/)
    expect(frame).toContain('no router here: start one (opsctl router start)')
    expect(frame).toContain('no rollout running')
    expect(frame).toContain('no flags')
    expect(frame).toContain('no open incident')
    expect(frame).toMatch(/Queries · loading/)
    unmount()
  })

  it('stale: keeps the last numbers, says how old they are and why, while the others stay live', () => {
    let data = liveData()
    data = applyOutcome(data, 'traffic', { error: new Error('connect ECONNREFUSED 127.0.0.1:9901') }, NOW + 12_000)
    const view = render(<Dashboard data={data} actions={recordingActions()} colors={false} now={() => NOW + 12_000} />)
    const frame = view.lastFrame()!
    expect(frame).toMatch(/Traffic · stale 12s/)
    expect(frame).toContain('connect ECONNREFUSED 127.0.0.1:9901')
    expect(frame).toMatch(/canary\s+20%/) // the last numbers stay on screen
    expect(frame).toMatch(/Deploy · live/)
    view.unmount()
  })

  it('colors only when asked', () => {
    const view = render(<Dashboard data={liveData()} actions={recordingActions()} colors={true} now={() => NOW} />)
    expect(view.lastFrame()).toMatch(/\u001B\[/)
    view.unmount()
  })
})

describe('the dashboard keys', () => {
  it('a asks first; declining changes nothing, confirming aborts through the module call', async () => {
    const { stdin, lastFrame, actions, unmount } = show(liveData())
    stdin.write('a')
    await until(() => lastFrame()!.includes('Abort api-3: all traffic back to the old version? (y/N)'))
    stdin.write('n')
    await until(() => lastFrame()!.includes('cancelled: nothing changed'), lastFrame)
    expect(actions.calls).toEqual([])
    stdin.write('a')
    await until(() => lastFrame()!.includes('(y/N)'))
    stdin.write('y')
    await until(() => lastFrame()!.includes('abort api-3: done'), lastFrame)
    expect(actions.calls).toEqual(['abort api-3'])
    unmount()
  })

  it('p promotes after a yes', async () => {
    const { stdin, lastFrame, actions, unmount } = show(liveData())
    stdin.write('p')
    await until(() => lastFrame()!.includes('Promote api-3 (canary 20% · stable 80% · step 1/3)? (y/N)'))
    stdin.write('y')
    await until(() => actions.calls.length === 1)
    expect(actions.calls).toEqual(['promote api-3'])
    unmount()
  })

  it('f kills the flag selected in the Flags panel (Tab, arrows), after a yes', async () => {
    const { stdin, lastFrame, actions, unmount } = show(liveData())
    stdin.write('\t') // deploy
    stdin.write('\t') // flags
    await until(() => lastFrame()!.includes('▸ Flags'), lastFrame)
    stdin.write('\u001B[B') // down: old.banner
    await until(() => lastFrame()!.includes('› old.banner'), lastFrame)
    stdin.write('f')
    await until(() => lastFrame()!.includes('Kill flag old.banner (off in every environment)? (y/N)'))
    stdin.write('x') // anything but y declines
    await until(() => lastFrame()!.includes('cancelled: nothing changed'), lastFrame)
    expect(actions.calls).toEqual([])
    stdin.write('f')
    await until(() => lastFrame()!.includes('(y/N)'))
    stdin.write('y')
    await until(() => actions.calls.length === 1)
    expect(actions.calls).toEqual(['kill old.banner'])
    unmount()
  })

  it('i declares an incident with a title and a severity; Esc at the prompt changes nothing', async () => {
    const { stdin, lastFrame, actions, unmount } = show(liveData())
    stdin.write('i')
    await until(() => lastFrame()!.includes('incident title:'), lastFrame)
    stdin.write('\u001B') // Esc
    await until(() => lastFrame()!.includes('cancelled: nothing changed'), lastFrame)
    stdin.write('i')
    await until(() => lastFrame()!.includes('incident title:'), lastFrame)
    stdin.write('Payments down')
    await until(() => lastFrame()!.includes('incident title: Payments down'), lastFrame)
    stdin.write('\r')
    await until(() => lastFrame()!.includes('severity'), lastFrame)
    stdin.write('2')
    stdin.write('\r')
    await until(() => actions.calls.length === 1)
    expect(actions.calls).toEqual(['incident Payments down 2'])
    unmount()
  })

  it('n adds a note to the selected incident', async () => {
    const { stdin, lastFrame, actions, unmount } = show(liveData())
    stdin.write('n')
    await until(() => lastFrame()!.includes('note for INC-20261205-AB12:'), lastFrame)
    stdin.write('restarted the pool')
    await until(() => lastFrame()!.includes('restarted the pool'), lastFrame)
    stdin.write('\r')
    await until(() => actions.calls.length === 1)
    expect(actions.calls).toEqual(['note INC-20261205-AB12 restarted the pool'])
    unmount()
  })

  it('/ filters the lists, ? shows the keys, q quits', async () => {
    const exits: string[] = []
    const view = render(
      <Dashboard data={liveData()} actions={recordingActions()} colors={false} now={() => NOW} onExit={(reason) => exits.push(reason)} />,
    )
    view.stdin.write('/')
    await until(() => view.lastFrame()!.includes('filter:'), view.lastFrame)
    view.stdin.write('banner')
    view.stdin.write('\r')
    await until(() => view.lastFrame()!.includes('filter "banner"'), view.lastFrame)
    expect(view.lastFrame()).not.toContain('checkout.v2')
    expect(view.lastFrame()).toContain('old.banner')
    view.stdin.write('?')
    await until(() => view.lastFrame()!.includes('keys (any key closes)'))
    view.stdin.write(' ')
    await until(() => view.lastFrame()!.includes('Traffic'), view.lastFrame)
    view.stdin.write('q')
    await until(() => exits.length === 1)
    expect(exits).toEqual(['quit'])
    view.unmount()
  })
})
