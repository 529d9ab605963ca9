/** One error for a run that went wrong: what happened to the target, what it printed, and what was still written. Pure. */
import { ExitCode, OpsError, formatDuration, isOpsError } from '../core/index.js'
import { describeExit, TargetExitedError, type TargetExit } from './target.js'

export interface FailureFacts {
  label: string
  exit: TargetExit | undefined
  stderrTail: string[]
  /** It had opened its port (so it failed during the load run, not at start). */
  listening: boolean
  /** Files written despite the failure. */
  captured: string[]
}

function stderrBlock(lines: string[]): string {
  const tail = lines.filter((line) => line.trim() !== '').slice(-10)
  return tail.length ? `\nIts stderr ended with:\n${tail.map((line) => `  ${line}`).join('\n')}` : '\nIt wrote nothing to stderr.'
}

export function explainFailure(facts: FailureFacts, failure: unknown): OpsError {
  const captured = facts.captured.length ? `\nCaptured so far (written): ${facts.captured.join(', ')}` : '\nNothing was captured.'
  // a target that ended on its own explains everything after it (refused connections, missing replies)
  const end = failure instanceof TargetExitedError ? failure.end : facts.exit && !facts.exit.stoppedByOpsctl ? facts.exit : undefined
  if (end) {
    const when = facts.listening
      ? `during the load run, ${formatDuration(end.afterMs)} after it started`
      : `before it opened a port, ${formatDuration(end.afterMs)} after it started`
    return new OpsError(`The target ${facts.label} exited (${describeExit(end)}) ${when}.${stderrBlock(facts.stderrTail)}${captured}`, {
      exit: ExitCode.Environment,
      hint: facts.listening
        ? 'Fix the crash shown above (run the target on its own to see it), then profile again.'
        : 'Run the command on its own to see why it stops, then profile again.',
    })
  }
  if (isOpsError(failure)) {
    const detail = failure.exit === ExitCode.Environment ? stderrBlock(facts.stderrTail) : ''
    return new OpsError(`${failure.message}${detail}${captured}`, {
      exit: failure.exit,
      ...(failure.hint ? { hint: failure.hint } : {}),
      cause: failure,
    })
  }
  const error = failure as Error | undefined
  return new OpsError(`Profiling failed: ${error?.message ?? String(failure)}${captured}`, { exit: ExitCode.CheckFailed, cause: failure })
}
