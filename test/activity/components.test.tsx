import { render } from 'ink-testing-library'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, vi } from 'vitest'
import { ActivityView, ActivityWatch } from '../../src/dashboard/index.js'
import type { ActivitySnapshot } from '../../src/activity/index.js'
import { busySnapshot, embeddedSnapshot, emptySnapshot } from './snapshots.js'

// Ink's chalk could color here: so "no escapes with colors off" proves the components add none.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1'
})

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for the frame')
    await sleep(10)
  }
}

describe('the activity view', () => {
  it('live: connections, the lock chain as a tree, the pool and the findings', () => {
    const { lastFrame, unmount } = render(<ActivityView snapshot={busySnapshot()} colors={false} />)
    const frame = lastFrame()!
    expect(frame).toContain('Database activity · PostgreSQL at 127.0.0.1:5432/shop')
    expect(frame).toContain('4 of 97 usable (4%)')
    expect(frame).toMatch(/100 · app · reference-service · active 29\.0s \(transaction 30\.0s\) · blocks 2/)
    expect(frame).toMatch(/└─ 101 · app · reference-service · waits 20\.0s for unknown/)
    expect(frame).toMatch(/   └─ 102 · app/)
    expect(frame).toContain('2 open of 2, 0 idle, 48 waiting')
    expect(frame).toMatch(/● critical pool-starved/)
    expect(frame).toContain('idle-in-transaction')
    expect(frame).toContain('billing-worker')
    expect(frame).not.toMatch(/\u001B\[/) // no colors, no bold or dim when off
    unmount()
  })

  it('colors only when asked', () => {
    const { lastFrame, unmount } = render(<ActivityView snapshot={busySnapshot()} colors={true} />)
    expect(lastFrame()).toMatch(/\u001B\[31m/)
    unmount()
  })

  it('empty: no sessions, no chains, no findings, and the pg_stat_statements hint', () => {
    const { lastFrame, unmount } = render(<ActivityView snapshot={emptySnapshot()} colors={false} />)
    const frame = lastFrame()!
    expect(frame).toContain('0 of 97 usable (0%)')
    expect(frame).toContain('no client sessions')
    expect(frame).toMatch(/Lock chains\n +none/)
    expect(frame).toMatch(/Findings \(0\)\n +none/)
    expect(frame).toContain('pg_stat_statements is not installed in database shop. Try: CREATE EXTENSION pg_stat_statements;')
    unmount()
  })

  it('unavailable: the embedded database says what it cannot show', () => {
    const { lastFrame, unmount } = render(<ActivityView snapshot={embeddedSnapshot()} colors={false} />)
    const frame = lastFrame()!
    expect(frame).not.toContain('Connections')
    expect(frame).not.toContain('Lock chains')
    expect(frame).toContain('Not shown')
    expect(frame).toContain('- sessions, connection counts and lock chains: the embedded PGlite database runs one backend')
    unmount()
  })
})

describe('the watch view', () => {
  it('refreshes in place, keeps the last snapshot through a failed refresh, and quits on q', async () => {
    const snapshots = [emptySnapshot(), busySnapshot()]
    let calls = 0
    const load = async (): Promise<ActivitySnapshot> => {
      calls++
      if (calls === 3) throw new Error('connection reset')
      return snapshots[Math.min(calls, 2) - 1]!
    }
    let exited: string | undefined
    const { lastFrame, stdin, unmount } = render(
      <ActivityWatch load={load} intervalMs={20} colors={false} onExit={(how) => (exited = how)} />,
    )
    await until(() => lastFrame()!.includes('0 of 97 usable'))
    await until(() => lastFrame()!.includes('blocks 2'))
    await until(() => lastFrame()!.includes('Refresh failed: connection reset'))
    expect(lastFrame()).toContain('blocks 2')
    await until(() => !lastFrame()!.includes('Refresh failed'))
    expect(lastFrame()).toContain('q quits · r refreshes now · every 20ms')
    stdin.write('q')
    await until(() => exited !== undefined)
    expect(exited).toBe('quit')
    const after = calls
    await sleep(100)
    expect(calls).toBe(after) // no refresh after quitting
    unmount()
  })

  it('Ctrl-C interrupts', async () => {
    let exited: string | undefined
    const { stdin, lastFrame, unmount } = render(
      <ActivityWatch load={async () => emptySnapshot()} intervalMs={1000} colors={false} onExit={(how) => (exited = how)} />,
    )
    await until(() => lastFrame()!.includes('0 of 97'))
    stdin.write('\u0003')
    await until(() => exited !== undefined)
    expect(exited).toBe('interrupted')
    unmount()
  })
})
