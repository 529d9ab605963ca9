import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))

export interface Run {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * opsctl from the sources, asynchronously (gate runs take seconds and the service they start must
 * not be blocked), with a timeout; `interruptWhen` sends SIGINT once stderr matches it, as Ctrl-C would.
 */
export function runOpsctl(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; interruptWhen?: RegExp },
): Promise<Run & { pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEV_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let interrupted = false
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (options.interruptWhen && !interrupted && options.interruptWhen.test(stderr)) {
        interrupted = true
        child.kill('SIGINT')
      }
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000)
    child.once('close', (status, signal) => {
      clearTimeout(timer)
      resolve({ status, signal, stdout, stderr, pid: child.pid! })
    })
  })
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** The reference service from its TypeScript sources, as a gate.service.command list. */
export const REFERENCE_COMMAND = [process.execPath, '--import', 'tsx', 'reference-service/src/server.ts']

/** Running, not a zombie waiting to be reaped (in a container, PID 1 may never reap orphans). */
export function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

/** Processes whose command line contains the text (to prove none is left behind). */
export function processesMatching(text: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(text) && isRunning(Number(entry)))
        pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}
