/**
 * The profiled process: a `node ...` command opsctl starts with its own flags and the preload,
 * watched until it listens, asked for heap snapshots, and stopped with a signal so that it exits
 * normally and V8 writes its profiles. Adapter (child processes).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { badInput, environmentError, ExitCode, OpsError } from '../core/index.js'
import { CONTROL_FD, PARENT_ENV, type PreloadCommand, type PreloadMessage } from './preload.js'

export interface TargetExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** opsctl asked it to stop (so 0, 130 or 143 are all a normal end). */
  stoppedByOpsctl: boolean
  /** Milliseconds since it was started. */
  afterMs: number
}

export interface ListeningAddress {
  port: number
  address: string
  /** When it started listening, on the monotonic clock in microseconds. */
  atUs: number
}

export interface StartTargetOptions {
  /** `node [flags] script [args]`, as the user typed it after `--`. */
  command: string[]
  /** Node flags opsctl adds (profilers, the preload). */
  nodeFlags: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Lines of stderr and stdout kept for the report. */
  tailLines?: number
}

export interface RunningTarget {
  pid: number
  /** Resolves with the first port it listens on (or `port` when given); rejects if it exits first or the timeout passes. */
  waitForListening(options: { port?: number; timeoutMs: number }): Promise<ListeningAddress>
  /** Sends a command to the preload and waits for the reply of the same type. */
  request(command: PreloadCommand, timeoutMs: number): Promise<PreloadMessage>
  /** SIGTERM (or the given signal), then SIGKILL after `timeoutMs`. */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<TargetExit>
  /** Set once it has exited. */
  readonly exit: TargetExit | undefined
  exited: Promise<TargetExit>
  stderrTail(): string[]
  stdoutTail(): string[]
}

/** `node`, `node20`, `/usr/bin/node`, `node.exe` or this very binary. */
export function isNodeCommand(command: readonly string[]): boolean {
  const program = command[0]
  if (!program) return false
  return program === process.execPath || /^node(\d+)?(\.exe)?$/i.test(basename(program))
}

export function checkTargetCommand(command: readonly string[]): void {
  if (command.length === 0)
    throw badInput(
      'No target to profile',
      'Give the command after --, e.g. opsctl profile --load http://127.0.0.1:3000/ -- node server.js, or use --service reference.',
    )
  if (!isNodeCommand(command)) {
    throw badInput(
      `The target must be a node command, not "${command[0]}": opsctl adds V8's profiler flags to it`,
      'Run the script with node directly, e.g. -- node --import tsx src/server.ts (not npm start or tsx).',
    )
  }
  if (command.length < 2) throw badInput('The node command has no script to run', 'Give the script, e.g. -- node server.js.')
}

/** The binary a node command runs: `node` is this very node, anything else is the path given. */
export function nodeBinaryOf(command: readonly string[]): string {
  const program = command[0] ?? 'node'
  return program === 'node' ? process.execPath : program
}

export function startTarget(options: StartTargetOptions): RunningTarget {
  checkTargetCommand(options.command)
  const started = Date.now()
  const [program, ...rest] = options.command as [string, ...string[]]
  const child: ChildProcess = spawn(nodeBinaryOf(options.command), [...options.nodeFlags, ...rest], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, [PARENT_ENV]: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  })
  const tailLines = options.tailLines ?? 20
  const stderr = keepTail(child.stderr!, tailLines)
  const stdout = keepTail(child.stdout!, tailLines)
  const control = child.stdio[CONTROL_FD] as (Readable & Writable) | null
  const messages: PreloadMessage[] = []
  const waiters = new Set<(message: PreloadMessage) => void>()
  if (control) {
    control.on('error', () => {})
    createInterface({ input: control }).on('line', (line) => {
      let message: PreloadMessage
      try {
        message = JSON.parse(line) as PreloadMessage
      } catch {
        return
      }
      messages.push(message)
      for (const waiter of [...waiters]) waiter(message)
    })
  }

  let exit: TargetExit | undefined
  let stopRequested = false
  const exited = new Promise<TargetExit>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      exit = { code: null, signal: null, stoppedByOpsctl: false, afterMs: Date.now() - started }
      stderr.push(`cannot start ${program}: ${error.code ?? error.message}`)
      resolve(exit)
    })
    child.once('exit', (code, signal) => {
      exit ??= { code, signal, stoppedByOpsctl: stopRequested, afterMs: Date.now() - started }
      const end = exit
      // the last lines of stderr may still be in the pipe: wait for it to close, briefly
      const timer = setTimeout(() => resolve(end), 1000)
      child.once('close', () => {
        clearTimeout(timer)
        resolve(end)
      })
    })
  })

  const nextMessage = (accept: (message: PreloadMessage) => boolean, timeoutMs: number, what: string): Promise<PreloadMessage> =>
    new Promise((resolve, reject) => {
      const earlier = messages.find(accept)
      if (earlier) return resolve(earlier)
      const timer = setTimeout(() => {
        cleanup()
        reject(new OpsError(`${what}: no answer within ${Math.round(timeoutMs / 1000)}s`, { exit: ExitCode.Environment }))
      }, timeoutMs)
      const onMessage = (message: PreloadMessage) => {
        if (!accept(message)) return
        cleanup()
        resolve(message)
      }
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(onMessage)
      }
      waiters.add(onMessage)
      void exited.then((end) => {
        if (!waiters.has(onMessage)) return
        cleanup()
        reject(new TargetExitedError(end, stderr.lines()))
      })
    })

  return {
    pid: child.pid ?? -1,
    get exit() {
      return exit
    },
    exited,
    stderrTail: () => stderr.lines(),
    stdoutTail: () => stdout.lines(),
    async waitForListening({ port, timeoutMs }) {
      try {
        const message = await nextMessage((m) => m.type === 'listening' && (port === undefined || m.port === port), timeoutMs, 'listening')
        const listening = message as Extract<PreloadMessage, { type: 'listening' }>
        return { port: listening.port, address: listening.address, atUs: listening.atUs }
      } catch (error) {
        if (error instanceof TargetExitedError) throw error
        const seen = messages.filter((m): m is Extract<PreloadMessage, { type: 'listening' }> => m.type === 'listening').map((m) => m.port)
        throw environmentError(
          `The target did not open ${port !== undefined ? `port ${port}` : 'a port'} within ${Math.round(timeoutMs / 1000)}s` +
            (seen.length ? ` (it listens on ${seen.join(', ')})` : ''),
          port !== undefined && seen.length
            ? `Point --load at a port it listens on, e.g. http://127.0.0.1:${seen[0]}/, or give just the path (--load /path).`
            : 'Check that the command starts an HTTP server on 127.0.0.1, or give it longer with --start-timeout.',
        )
      }
    },
    request(command, timeoutMs) {
      if (!control || exit)
        return Promise.reject(
          new TargetExitedError(exit ?? { code: null, signal: null, stoppedByOpsctl: false, afterMs: 0 }, stderr.lines()),
        )
      const reply = nextMessageAfter(messages.length)
      control.write(`${JSON.stringify(command)}\n`)
      return reply
      function nextMessageAfter(seen: number): Promise<PreloadMessage> {
        const replyType = command.type === 'heap-write' ? 'heap-profile' : command.type === 'heap-restart' ? 'heap-sampling' : command.type
        return nextMessage((m) => m.type === replyType && messages.indexOf(m) >= seen, timeoutMs, `${command.type} in the target`)
      }
    },
    async stop({ signal = 'SIGTERM', timeoutMs = 15_000 } = {}) {
      if (exit) return exit
      stopRequested = true
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/**
 * CPU time (user + system) a process has used so far, from /proc (Linux); undefined elsewhere or
 * once it has exited. Clock ticks are 10ms on Linux (USER_HZ 100, the same on every architecture).
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks * 10 : undefined
  } catch {
    return undefined
  }
}

/** The target ended before opsctl was done with it. */
export class TargetExitedError extends Error {
  constructor(
    readonly end: TargetExit,
    readonly stderr: string[],
  ) {
    super(`The target exited (${describeExit(end)})`)
  }
}

export function describeExit(end: Pick<TargetExit, 'code' | 'signal'>): string {
  if (end.signal) return `killed by ${end.signal}`
  if (end.code === null) return 'it could not be started'
  return `exit code ${end.code}`
}

function keepTail(stream: Readable, max: number): { lines(): string[]; push(line: string): void } {
  const kept: string[] = []
  const push = (line: string) => {
    kept.push(line.length > 500 ? `${line.slice(0, 497)}...` : line)
    if (kept.length > max) kept.shift()
  }
  createInterface({ input: stream }).on('line', push)
  return { lines: () => [...kept], push }
}
