/**
 * The service under test: started in a process group of its own (so that a shell, npm or a
 * cluster's workers are stopped with it), ready when its readiness URL answers 2xx, stopped with
 * SIGTERM to the whole group and SIGKILL after the stop timeout. A hook on process exit kills the
 * group if the gate itself dies on its way out, so no process is left behind. Adapter.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { environmentError, OpsError, ExitCode } from '../core/index.js'

export interface ServiceSpec {
  /** A list is run as is; a string is run by `sh -c`. */
  command: string | string[]
  cwd: string
  env: Record<string, string>
  readyUrl: string
  startTimeoutMs: number
  stopTimeoutMs: number
}

export interface ServiceExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Stopped by the gate (SIGTERM or SIGKILL), as opposed to exiting on its own. */
  stoppedByGate: boolean
  killed: boolean
}

export interface RunningService {
  pid: number
  /** The last lines it printed (stdout and stderr). */
  outputTail(): string[]
  /** Resolves when the process has exited on its own or been stopped. */
  exited: Promise<ServiceExit>
  stop(): Promise<ServiceExit>
}

const TAIL_LINES = 40
const POLL_MS = 200

/** The command as one line for messages. */
export function describeCommand(command: string | string[]): string {
  return typeof command === 'string' ? command : command.map((part) => (/[\s"'$`\\]/.test(part) ? JSON.stringify(part) : part)).join(' ')
}

export async function startService(
  spec: ServiceSpec,
  options: { signal?: AbortSignal; note?(message: string): void } = {},
): Promise<RunningService> {
  const [file, args] = typeof spec.command === 'string' ? ['/bin/sh', ['-c', spec.command]] : [spec.command[0]!, spec.command.slice(1)]
  let child: ChildProcess
  try {
    child = spawn(file, args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
  } catch (error) {
    throw environmentError(`Cannot start the service (${describeCommand(spec.command)}): ${(error as Error).message}`)
  }
  const tail: string[] = []
  const collect = (chunk: Buffer) => {
    const lines = chunk.toString().split('\n')
    if (tail.length > 0 && lines.length > 0) tail[tail.length - 1] += lines.shift()!
    tail.push(...lines)
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES)
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const outputTail = () => tail.filter((line, i) => line !== '' || i < tail.length - 1)

  let stopping = false
  let killed = false
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stoppedByGate: stopping, killed }))
    void spawnError.then(() => resolve({ code: null, signal: null, stoppedByGate: false, killed: false }))
  })
  const pid = child.pid
  const killGroup = (signal: NodeJS.Signals) => {
    if (pid === undefined) return
    try {
      process.kill(-pid, signal)
    } catch {
      // the group is gone already
    }
  }
  const onExit = () => killGroup('SIGKILL')
  process.on('exit', onExit)

  const stop = async (): Promise<ServiceExit> => {
    stopping = true
    killGroup('SIGTERM')
    const timer = setTimeout(() => {
      killed = true
      killGroup('SIGKILL')
    }, spec.stopTimeoutMs)
    const exit = await exited
    clearTimeout(timer)
    // the leader is gone; what it started in its group goes with it
    killGroup('SIGKILL')
    process.off('exit', onExit)
    return exit
  }

  try {
    if (pid === undefined) throw await spawnError
    await waitUntilReady(spec, exited, options.signal)
  } catch (error) {
    await stop()
    if (error instanceof OpsError || (error as Error).name === 'AbortError') throw error
    const code = (error as NodeJS.ErrnoException).code
    throw environmentError(
      `Cannot start the service (${describeCommand(spec.command)}): ${code === 'ENOENT' ? `${file} not found` : (error as Error).message}`,
      'Check gate.service.command and gate.service.cwd in opsctl.yaml.',
    )
  }
  return { pid, outputTail, exited, stop }

  async function waitUntilReady(service: ServiceSpec, gone: Promise<ServiceExit>, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + service.startTimeoutMs
    let exit: ServiceExit | undefined
    void gone.then((value) => (exit = value))
    let last = 'no answer yet'
    for (;;) {
      if (signal?.aborted) throw abortError()
      if (exit) throw notStarted(`exited with ${describeExit(exit)} before it was ready`, outputTail())
      try {
        const response = await fetch(service.readyUrl, { signal: AbortSignal.timeout(2000), redirect: 'manual' })
        await response.body?.cancel()
        if (response.status >= 200 && response.status < 300) return
        last = `HTTP ${response.status}`
      } catch (error) {
        last = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message
      }
      if (Date.now() > deadline)
        throw notStarted(`was not ready within ${service.startTimeoutMs / 1000}s (${service.readyUrl}: ${last})`, outputTail())
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }

  function notStarted(what: string, lines: string[]): OpsError {
    const shown = lines.slice(-20)
    return new OpsError(
      `The service (${describeCommand(spec.command)}) ${what}${shown.length ? `. Its last output:\n${shown.map((line) => `  ${line}`).join('\n')}` : ' and printed nothing.'}`,
      { exit: ExitCode.Environment, hint: 'Run the command by hand to see why it does not start; check gate.service in opsctl.yaml.' },
    )
  }
}

export function describeExit(exit: Pick<ServiceExit, 'code' | 'signal'>): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`
}

export function abortError(): Error {
  const error = new Error('interrupted')
  error.name = 'AbortError'
  return error
}
