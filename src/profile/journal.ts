/** One `profile.run` event per run in the ops journal: the target, the top functions and where the files are. Adapter. */
import type { OpsError, Settings } from '../core/index.js'
import { recordEvent } from '../journal/index.js'
import type { ProfileRun } from './capture.js'
import { profileEvents } from './events.js'

const round = (share: number) => Math.round(share * 10_000) / 10_000

export function profileRunEvent(run: ProfileRun, error?: OpsError): { kind: string; subject: string; data: Record<string, unknown> } {
  const summary = run.summary
  const first = summary?.topSelf[0]
  return {
    kind: profileEvents.run.kind,
    subject: run.target.label,
    data: {
      target: run.target.label,
      mode: run.mode,
      attribution: run.attribution.method,
      outcome: error ? 'failed' : run.interrupted ? 'interrupted' : 'ok',
      ...(run.load
        ? { durationMs: Math.round(run.load.measuredMs), requests: run.load.requests, rps: Math.round(run.load.rps * 10) / 10 }
        : {}),
      ...(run.url ? { url: run.url } : {}),
      ...(first ? { top: `${first.name}${first.location ? ` (${first.location})` : ''} ${(first.selfShare * 100).toFixed(1)}%` } : {}),
      ...(summary
        ? {
            unit: summary.unit,
            topFunctions: summary.topSelf.slice(0, 5).map((stat) => ({
              name: stat.name,
              location: stat.location,
              selfShare: round(stat.selfShare),
              totalShare: round(stat.totalShare),
            })),
            shares: { gc: round(summary.shares.gc), idle: round(summary.shares.idle), native: round(summary.shares.native) },
          }
        : {}),
      files: run.files,
      ...(run.target.exit ? { exit: { code: run.target.exit.code, signal: run.target.exit.signal } } : {}),
      ...(error ? { error: error.message.split('\n')[0]!.slice(0, 300) } : {}),
    },
  }
}

/** A journal that cannot be written does not lose the profile: it is said on stderr and in the result. */
export async function recordProfileRun(
  settings: Settings,
  run: ProfileRun,
  error: OpsError | undefined,
  note: (message: string) => void,
): Promise<void> {
  try {
    const event = await recordEvent(settings, profileRunEvent(run, error))
    run.journal = { recorded: true, id: event.id }
  } catch (failure) {
    const message = (failure as Error).message
    run.journal = { recorded: false, error: message }
    note(`Warning: the profile.run event could not be written to the journal: ${message}`)
  }
}
