/* @jsxRuntime automatic */
/* @jsxImportSource react */
// The pragmas keep the automatic JSX runtime when tsx compiles this outside the repository root (no tsconfig found from the working directory).
import { render } from 'ink'
import type { ActivitySnapshot } from '../../activity/index.js'
import { ActivityWatch } from './ActivityWatch.js'

export interface ActivityWatchOptions {
  load: () => Promise<ActivitySnapshot>
  intervalMs: number
  colors: boolean
  stdout?: NodeJS.WriteStream
  stdin?: NodeJS.ReadStream
}

export interface ActivityWatchOutcome {
  reason: 'quit' | 'interrupted'
  snapshots: number
  last: ActivitySnapshot | undefined
}

/** Runs the watch view on the terminal until q or Ctrl-C; the command owns the database connection. */
export async function runActivityWatch(options: ActivityWatchOptions): Promise<ActivityWatchOutcome> {
  let reason: ActivityWatchOutcome['reason'] = 'quit'
  let snapshots = 0
  let last: ActivitySnapshot | undefined
  const onSnapshot = (snapshot: ActivitySnapshot) => {
    snapshots++
    last = snapshot
  }
  const app = render(
    <ActivityWatch
      load={options.load}
      intervalMs={options.intervalMs}
      colors={options.colors}
      onSnapshot={onSnapshot}
      onExit={(how) => (reason = how)}
    />,
    { stdout: options.stdout ?? process.stdout, stdin: options.stdin ?? process.stdin, exitOnCtrlC: false, patchConsole: false },
  )
  await app.waitUntilExit()
  return { reason, snapshots, last }
}
