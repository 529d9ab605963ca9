/* @jsxRuntime automatic */
/* @jsxImportSource react */
// The pragmas keep the automatic JSX runtime when tsx compiles this outside the repository root.
import { render, useStdout } from 'ink'
import { useEffect, useState } from 'react'
import { Dashboard } from './Dashboard.js'
import {
  emptyData,
  nextState,
  withTrafficHistory,
  type DashboardData,
  type PanelName,
  type SourceState,
  type TrafficData,
} from './model.js'
import { startPolling, type PollOptions, type PollOutcome } from './poller.js'
import type { DashboardActions, Sources } from './sources.js'

/** Folds one refresh into the dashboard's data (pure). */
export function applyOutcome(data: DashboardData, panel: PanelName, outcome: PollOutcome, now: number): DashboardData {
  const state = nextState(data[panel] as SourceState<unknown>, outcome, now)
  const next = { ...data, [panel]: state }
  if (panel === 'traffic' && state.status === 'live') next.history = withTrafficHistory(data.history, state.data as TrafficData)
  return next
}

interface LiveProps {
  sources: Sources
  actions: DashboardActions
  poll: PollOptions
  colors: boolean
  onExit: (reason: 'quit' | 'interrupted') => void
}

function LiveDashboard({ sources, actions, poll, colors, onExit }: LiveProps) {
  const [data, setData] = useState<DashboardData>(emptyData)
  const { stdout } = useStdout()
  const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 })
  useEffect(
    () => startPolling(sources.loaders, poll, (panel, outcome) => setData((current) => applyOutcome(current, panel, outcome, Date.now()))),
    [sources, poll],
  )
  useEffect(() => {
    const onResize = () => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 })
    stdout.on('resize', onResize)
    return () => void stdout.off('resize', onResize)
  }, [stdout])
  // One row short of the screen: Ink redraws in place without scrolling (no flicker).
  return (
    <Dashboard data={data} actions={actions} colors={colors} columns={size.columns} rows={Math.max(24, size.rows - 1)} onExit={onExit} />
  )
}

/** The interactive dashboard until q (quit) or Ctrl-C (interrupted). */
export async function runDashboard(options: Omit<LiveProps, 'onExit'>): Promise<'quit' | 'interrupted'> {
  let outcome: 'quit' | 'interrupted' = 'quit'
  const app = render(<LiveDashboard {...options} onExit={(reason) => (outcome = reason)} />, { exitOnCtrlC: false })
  await app.waitUntilExit()
  return outcome
}
