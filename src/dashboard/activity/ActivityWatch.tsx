/* @jsxRuntime automatic */
/* @jsxImportSource react */
// The pragmas keep the automatic JSX runtime when tsx compiles this outside the repository root (no tsconfig found from the working directory).
import { Box, Text, useApp, useInput } from 'ink'
import { useEffect, useState } from 'react'
import { formatDuration } from '../../core/index.js'
import type { ActivitySnapshot } from '../../activity/index.js'
import { ActivityView, activityStyles } from './ActivityView.js'

export interface ActivityWatchProps {
  /** Takes one snapshot; called again intervalMs after the previous one finished. */
  load: () => Promise<ActivitySnapshot>
  intervalMs: number
  colors: boolean
  onSnapshot?: (snapshot: ActivitySnapshot) => void
  /** How the user left: q (or Esc) quits, Ctrl-C interrupts. */
  onExit?: (reason: 'quit' | 'interrupted') => void
}

/** `db activity --watch`: the activity view refreshed in place, like top. */
export function ActivityWatch({ load, intervalMs, colors, onSnapshot, onExit }: ActivityWatchProps) {
  const { exit } = useApp()
  const { tone, dim } = activityStyles(colors)
  const [snapshot, setSnapshot] = useState<ActivitySnapshot>()
  const [error, setError] = useState<string>()
  const [refreshes, setRefreshes] = useState(0)

  useInput((input, key) => {
    if (input === 'q' || key.escape) {
      onExit?.('quit')
      exit()
    } else if (key.ctrl && input === 'c') {
      onExit?.('interrupted')
      exit()
    } else if (input === 'r') setRefreshes((count) => count + 1)
  })

  useEffect(() => {
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    const tick = async () => {
      try {
        const next = await load()
        if (stopped) return
        setSnapshot(next)
        setError(undefined)
        onSnapshot?.(next)
      } catch (failure) {
        if (!stopped) setError((failure as Error).message)
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs)
    }
    void tick()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [load, intervalMs, refreshes, onSnapshot])

  return (
    <Box flexDirection="column">
      {snapshot ? <ActivityView snapshot={snapshot} colors={colors} /> : <Text>Taking the first snapshot…</Text>}
      {error ? (
        <Text {...tone('red')} wrap="truncate-end">
          Refresh failed: {error} (trying again every {formatDuration(intervalMs)})
        </Text>
      ) : null}
      <Box marginTop={1}>
        <Text {...dim}>q quits · r refreshes now · every {formatDuration(intervalMs)}</Text>
      </Box>
    </Box>
  )
}
