/**
 * `runbook run`: show a step's command, run it only after confirmation, and record what
 * happened (command, exit code, output tail) as a `runbook.step` event in the open incident's
 * timeline. Never runs without a yes: a terminal prompt, or --yes.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { ExitCode, OpsError, badInput, parseDuration, redactText, stripAnsi, verdict, type Settings, type Verdict } from '../core/index.js'
import { openJournal, recordEvent, type JournalEvent } from '../journal/index.js'
import { readIncidents, selectIncident } from './incidents.js'
import { findRunbook, findRunbookStep, loadRunbookLibrary } from './runbooks.js'
import { formatProblem, type Runbook, type RunbookStep } from './runbook-format.js'
import { isTerminal, type Incident } from './state.js'
import { runbookEvents } from './events.js'

export const OUTPUT_TAIL_LINES = 40
export const OUTPUT_TAIL_CHARS = 4000

export interface StepPlan {
  runbook: Runbook
  step: RunbookStep
  /** Where the step will be recorded; undefined when no incident is open. */
  incident?: Pick<Incident, 'id' | 'title' | 'status' | 'service'>
  shell: string[]
  /** Shell code run before the command (not shown, not recorded): makes `opsctl` this very opsctl. */
  prelude: string
  cwd: string
  env: Record<string, string>
}

export interface StepIO {
  /** Shows the step before asking (stdout for people). */
  show(plan: StepPlan): void
  /** Asks on a terminal; undefined when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>
  /** Where the command's own output goes while it runs. */
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  note(message: string): void
}

export interface StepRunRequest {
  runbook: string
  step: string
  /** An incident id; default the only open one. */
  incident?: string
  /** Record without an incident even when one is open. */
  noIncident?: boolean
  yes: boolean
  /** Default: the config key incident.stepTimeout. */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

export type StepStatus = 'done' | 'failed' | 'timed-out' | 'interrupted'

export interface StepRunResult {
  runbook: string
  step: { number: number; name: string }
  incident?: string
  command: string
  status: StepStatus
  exitCode: number | null
  signal?: string
  durationMs: number
  outputTail: string
  eventId: string
}

/** Everything decided before asking: the runbook, the step, the incident it will be recorded in. */
export async function planRunbookStep(settings: Settings, request: StepRunRequest, note: (message: string) => void): Promise<StepPlan> {
  const library = loadRunbookLibrary(settings)
  const runbook = findRunbook(library, request.runbook)
  for (const problem of library.broken) note(`Skipped a broken runbook: ${formatProblem(problem)}`)
  const step = findRunbookStep(runbook, request.step)
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069]/.test(step.command)) {
    throw badInput(
      `${runbook.file}:${step.line}: step ${step.name} contains control characters that would hide what it runs; not run`,
      `Check the file with opsctl runbook lint ${runbook.file}.`,
    )
  }
  let incident: Incident | undefined
  if (!request.noIncident) {
    const store = await openJournal(settings)
    try {
      const { incidents } = await readIncidents(store)
      const open = incidents.filter((candidate) => !isTerminal(candidate.status))
      if (request.incident !== undefined || open.length > 1) incident = selectIncident(incidents, request.incident)
      else incident = open[0]
    } finally {
      await store.close()
    }
  }
  const service = incident?.service ?? settings.config.service.name
  const env: Record<string, string> = { OPSCTL_RUNBOOK: runbook.id, OPSCTL_RUNBOOK_STEP: step.name, SERVICE: service }
  if (incident) env.INCIDENT_ID = incident.id
  if (settings.config.service.url) env.SERVICE_URL = settings.config.service.url
  if (settings.configPath) env.OPSCTL_CONFIG = settings.configPath
  // Steps call `opsctl`: the same installation and version as the one running them, on PATH or not.
  let prelude = ''
  const entry = process.argv[1]
  if (entry && /[\\/]bin[\\/](run|dev)\.js$/.test(entry)) {
    env.OPSCTL_NODE = process.execPath
    env.OPSCTL_ENTRY = entry
    prelude = 'opsctl() { "$OPSCTL_NODE" "$OPSCTL_ENTRY" "$@"; }\n'
  }
  return {
    runbook,
    step,
    ...(incident
      ? {
          incident: {
            id: incident.id,
            title: incident.title,
            status: incident.status,
            ...(incident.service ? { service: incident.service } : {}),
          },
        }
      : {}),
    shell: shellFor(step.language),
    prelude,
    cwd: settings.rootDir,
    env,
  }
}

/** `-e`: a multi-line step stops at its first failing line instead of reporting the last line's status. */
function shellFor(language: RunbookStep['language']): string[] {
  if (language === 'bash') return ['bash', '-e', '-o', 'pipefail', '-c']
  if (language === 'zsh') return ['zsh', '-e', '-c']
  return ['sh', '-e', '-c']
}

export async function runRunbookStep(settings: Settings, request: StepRunRequest, io: StepIO): Promise<StepRunResult> {
  const plan = await planRunbookStep(settings, request, io.note)
  io.show(plan)
  if (!request.yes) {
    if (!io.confirm) {
      throw new OpsError(`Not run: step ${plan.step.name} of ${plan.runbook.id} needs a confirmation, and there is no terminal to ask on`, {
        exit: ExitCode.BadInput,
        hint: 'Run it from a terminal and answer y, or add --yes once you have read the command.',
      })
    }
    const yes = await io.confirm(
      `Run step ${plan.step.number} (${plan.step.name})${plan.incident ? ` and record it in ${plan.incident.id}` : ''}? [y/N] `,
    )
    if (!yes) throw new OpsError('Not run: declined', { exit: ExitCode.CheckFailed, hint: 'Nothing was run or recorded.' })
  }
  const timeoutMs = request.timeoutMs ?? parseDuration(settings.config.incident.stepTimeout, 'incident.stepTimeout')
  const outcome = await executeStep(plan, { ...request, timeoutMs }, io)
  const data: Record<string, unknown> = {
    runbook: plan.runbook.id,
    step: plan.step.name,
    number: plan.step.number,
    status: outcome.status,
    command: plan.step.command,
    exitCode: outcome.exitCode,
    ...(outcome.signal ? { signal: outcome.signal } : {}),
    startedAt: outcome.startedAt,
    durationMs: outcome.durationMs,
    outputTail: outcome.outputTail,
  }
  const links: Record<string, string> = { runbook: plan.runbook.id }
  if (plan.incident) links.incident = plan.incident.id
  let event: JournalEvent
  try {
    event = await recordEvent(
      settings,
      { kind: runbookEvents.step.kind, subject: plan.incident?.id ?? plan.runbook.id, links, data },
      { env: request.env },
    )
  } catch (error) {
    throw new OpsError(
      `The step ran (${outcome.status}, exit ${String(outcome.exitCode)}) but could not be recorded in the journal: ${(error as Error).message}`,
      {
        exit: ExitCode.Environment,
        hint: 'Note it by hand: opsctl incident log "ran <runbook> step <name>: ..."',
        cause: error,
      },
    )
  }
  return {
    runbook: plan.runbook.id,
    step: { number: plan.step.number, name: plan.step.name },
    ...(plan.incident ? { incident: plan.incident.id } : {}),
    command: event.data.command as string,
    status: outcome.status,
    exitCode: outcome.exitCode,
    ...(outcome.signal ? { signal: outcome.signal } : {}),
    durationMs: outcome.durationMs,
    outputTail: event.data.outputTail as string,
    eventId: event.id,
  }
}

/** A step that did not finish with exit 0 fails the command (an interrupted one is the command's 130, not a verdict). */
export function stepVerdict(result: StepRunResult): Verdict {
  if (result.status === 'done') return verdict('pass')
  const how =
    result.status === 'timed-out'
      ? 'timed out'
      : result.exitCode === null
        ? `was killed (${result.signal ?? 'signal'})`
        : `exited ${result.exitCode}`
  return verdict('fail', [`${result.runbook} step ${result.step.number} (${result.step.name}) ${how}`], {
    hint: `Its output tail is in the journal event ${result.eventId}; opsctl incident status shows it in the timeline.`,
  })
}

interface Outcome {
  status: StepStatus
  exitCode: number | null
  signal?: string
  startedAt: string
  durationMs: number
  outputTail: string
}

function executeStep(plan: StepPlan, request: StepRunRequest & { timeoutMs: number }, io: StepIO): Promise<Outcome> {
  const [shell, ...args] = plan.shell
  const started = Date.now()
  const tail = new OutputTail()
  return new Promise((resolve, reject) => {
    const child = spawn(shell!, [...args, plan.prelude + plan.step.command], {
      cwd: plan.cwd,
      env: { ...(request.env ?? process.env), ...plan.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that a timeout or Ctrl-C stops what the shell started too (a sleep, a pipeline).
      detached: process.platform !== 'win32',
    })
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, signal)
        else child.kill(signal)
      } catch {
        // already gone
      }
    }
    let timedOut = false
    let interrupted = false
    const timer = setTimeout(() => {
      timedOut = true
      signalGroup('SIGTERM')
      setTimeout(() => signalGroup('SIGKILL'), 5000).unref()
    }, request.timeoutMs)
    // Ctrl-C is passed on to the step; opsctl stays to record that it was interrupted.
    const onInterrupt = () => {
      interrupted = true
      signalGroup('SIGINT')
    }
    process.on('SIGINT', onInterrupt)
    child.stdout!.on('data', (chunk: Buffer) => {
      io.stdout.write(chunk)
      tail.add(chunk)
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      io.stderr.write(chunk)
      tail.add(chunk)
    })
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      process.off('SIGINT', onInterrupt)
      reject(
        new OpsError(`Cannot start ${shell}: ${error.message}`, {
          exit: ExitCode.Environment,
          hint: `Install ${shell}, or write the step as a sh block.`,
          cause: error,
        }),
      )
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      process.off('SIGINT', onInterrupt)
      const status: StepStatus = timedOut ? 'timed-out' : interrupted ? 'interrupted' : code === 0 ? 'done' : 'failed'
      resolve({
        status,
        exitCode: code,
        ...(signal ? { signal } : {}),
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        outputTail: tail.text(),
      })
    })
  })
}

/** The last lines of the combined output, without colors and secrets, bounded in size. */
export class OutputTail {
  private buffer = ''

  add(chunk: Buffer | string): void {
    this.buffer += chunk.toString()
    if (this.buffer.length > OUTPUT_TAIL_CHARS * 4) this.buffer = this.buffer.slice(-OUTPUT_TAIL_CHARS * 2)
  }

  text(): string {
    const clean = stripAnsi(this.buffer)
      .replace(/\r\n/g, '\n')
      .replace(/[^\n]*\r/g, '') // progress bars redrawn with \r: keep the final state
      .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
    const lines = clean.replace(/\n+$/, '').split('\n').slice(-OUTPUT_TAIL_LINES)
    let text = lines.join('\n')
    if (text.length > OUTPUT_TAIL_CHARS) text = `…${text.slice(-(OUTPUT_TAIL_CHARS - 1))}`
    return redactText(text)
  }
}

/** A y/N question on the terminal; anything but y or yes is no. */
export function terminalConfirm(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): (question: string) => Promise<boolean> {
  return (question) =>
    new Promise((resolve) => {
      const rl = createInterface({ input, output, terminal: true })
      let answered = false
      rl.question(question, (answer) => {
        answered = true
        rl.close()
        resolve(/^\s*y(es)?\s*$/i.test(answer))
      })
      rl.on('close', () => {
        if (!answered) resolve(false)
      })
    })
}
