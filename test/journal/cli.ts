import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))

export interface Run {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  input?: string | Buffer
}

/** opsctl from the TypeScript sources, in its own process, asynchronously (so several can run at once). */
export function startOpsctl(args: string[], options: RunOptions): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [DEV_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', OPSCTL_JOURNAL_URL: '', OPSCTL_JOURNAL_DIR: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdin!.on('error', () => {}) // the process may exit (or be killed) before reading all input
  if (options.input !== undefined) child.stdin!.end(options.input)
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }))
  })
  return { child, done }
}

export function opsctl(args: string[], options: RunOptions): Promise<Run> {
  return startOpsctl(args, { input: '', ...options }).done
}

export function jsonLines(values: readonly unknown[]): string {
  return values.map((value) => `${JSON.stringify(value)}\n`).join('')
}
