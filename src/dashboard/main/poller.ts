/**
 * Refreshes every source on its own clock: a slow or dead source never holds up the others, and
 * a refresh that does not answer within its timeout counts as a failure (the panel goes stale).
 */
import type { PanelName } from './model.js'

export interface PollOptions {
  intervalMs: number
  /** Per panel, when it should refresh less often (database activity: a query per refresh). */
  intervals?: Partial<Record<PanelName, number>>
  /** A refresh still running after this long is a failure (default: twice the interval, at least 3 s). */
  timeoutMs?: number
}

export type PollOutcome = { data: unknown } | { error: Error }

export function startPolling(
  loaders: Record<PanelName, () => Promise<unknown>>,
  options: PollOptions,
  onUpdate: (panel: PanelName, outcome: PollOutcome) => void,
): () => void {
  let stopped = false
  const timers = new Set<NodeJS.Timeout>()
  const timeoutMs = options.timeoutMs ?? Math.max(3000, options.intervalMs * 2)
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      run()
    }, ms)
    timers.add(timer)
  }
  const withTimeout = (work: Promise<unknown>) =>
    new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)), timeoutMs)
      work.then(resolve, reject).finally(() => clearTimeout(timer))
    })
  for (const panel of Object.keys(loaders) as PanelName[]) {
    const interval = options.intervals?.[panel] ?? options.intervalMs
    const refresh = async () => {
      if (stopped) return
      let outcome: PollOutcome
      try {
        outcome = { data: await withTimeout(loaders[panel]()) }
      } catch (error) {
        outcome = { error: error instanceof Error ? error : new Error(String(error)) }
      }
      if (stopped) return
      onUpdate(panel, outcome)
      later(interval, () => void refresh())
    }
    void refresh()
  }
  return () => {
    stopped = true
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
  }
}
