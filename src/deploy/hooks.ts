/**
 * Rollout hooks, as in Flagger: a command (run by `sh -c` in its own process group, killed with
 * the group when it overruns its timeout) or an http(s) URL (POSTed the rollout's context as
 * JSON; a 2xx answer passes). What the command printed is kept, the tail of it, for the journal.
 * Context goes to commands as OPSCTL_* variables.
 */
import { spawn } from 'node:child_process'
import type { HookPhase } from './rollout.js'

export interface HookContext {
  rollout: string
  service: string
  strategy: string
  phase: HookPhase
  step?: number
  weight?: number
  /** Rolling: the instance being replaced. */
  instance?: string
  reason?: string
}

export interface HookResult {
  hook: string
  phase: HookPhase
  status: 'passed' | 'failed' | 'timed-out'
  durationMs: number
  exitCode?: number | null
  httpStatus?: number
  /** The last lines of output (commands) or of the answer (URLs), at most 2 kB. */
  outputTail: string
  error?: string
}

const TAIL_BYTES = 2048

export function isUrlHook(hook: string): boolean {
  return /^https?:\/\//i.test(hook.trim())
}

export async function runHook(hook: string, context: HookContext, timeoutMs: number, signal?: AbortSignal): Promise<HookResult> {
  const started = Date.now()
  const result = isUrlHook(hook) ? await callUrl(hook.trim(), context, timeoutMs, signal) : await runCommand(hook, context, timeoutMs)
  return { hook, phase: context.phase, durationMs: Date.now() - started, ...result }
}

type Partial = Omit<HookResult, 'hook' | 'phase' | 'durationMs'>

async function callUrl(url: string, context: HookContext, timeoutMs: number, signal?: AbortSignal): Promise<Partial> {
  const timeout = AbortSignal.timeout(timeoutMs)
  try {
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(context),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    })
    const text = await answer.text()
    return {
      status: answer.status >= 200 && answer.status < 300 ? 'passed' : 'failed',
      httpStatus: answer.status,
      outputTail: tail(text),
    }
  } catch (error) {
    if (timeout.aborted) return { status: 'timed-out', outputTail: '', error: `no answer within ${timeoutMs} ms` }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    return { status: 'failed', outputTail: '', error: cause?.code ?? cause?.message ?? (error as Error).message }
  }
}

function runCommand(command: string, context: HookContext, timeoutMs: number): Promise<Partial> {
  return runShell(command, contextEnv(context), timeoutMs)
}

function contextEnv(context: HookContext): Record<string, string> {
  return {
    OPSCTL_ROLLOUT: context.rollout,
    OPSCTL_SERVICE: context.service,
    OPSCTL_STRATEGY: context.strategy,
    OPSCTL_PHASE: context.phase,
    ...(context.step === undefined ? {} : { OPSCTL_STEP: String(context.step) }),
    ...(context.weight === undefined ? {} : { OPSCTL_WEIGHT: String(context.weight) }),
    ...(context.instance === undefined ? {} : { OPSCTL_INSTANCE: context.instance }),
    ...(context.reason === undefined ? {} : { OPSCTL_REASON: context.reason }),
  }
}

export interface ShellResult {
  status: 'passed' | 'failed' | 'timed-out'
  exitCode: number | null
  outputTail: string
  error?: string
}

/** `sh -c command` in its own process group (killed whole on timeout), with the tail of its output. */
export function runShell(command: string, env: Record<string, string>, timeoutMs: number): Promise<ShellResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    let output = ''
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-TAIL_BYTES * 4)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child.pid, 'SIGTERM')
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), 2000).unref()
    }, timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      resolve({ status: 'failed', exitCode: null, outputTail: tail(output), error: error.message })
    })
    // 'exit', not 'close': a command that starts a server in the background leaves our pipes open for ever
    child.once('exit', (code, signalName) => {
      clearTimeout(timer)
      child.stdout!.destroy()
      child.stderr!.destroy()
      resolve({
        status: timedOut ? 'timed-out' : code === 0 ? 'passed' : 'failed',
        exitCode: code,
        outputTail: tail(output),
        ...(timedOut ? { error: `still running after ${timeoutMs} ms: killed` } : signalName ? { error: `killed by ${signalName}` } : {}),
      })
    })
  })
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

function tail(text: string): string {
  const trimmed = text.trimEnd()
  if (Buffer.byteLength(trimmed) <= TAIL_BYTES) return trimmed
  return `…${trimmed.slice(-TAIL_BYTES)}`
}

/** `a hook` as one line for messages: the command or the URL. */
export function describeHookResult(result: HookResult): string {
  const how =
    result.httpStatus !== undefined
      ? `HTTP ${result.httpStatus}`
      : result.exitCode !== undefined && result.exitCode !== null
        ? `exit ${result.exitCode}`
        : (result.error ?? result.status)
  const lastLine = result.outputTail.split('\n').filter(Boolean).at(-1)
  return `${result.phase} hook ${result.status} (${how}): ${result.hook}${lastLine ? ` — ${lastLine.slice(0, 200)}` : ''}`
}
