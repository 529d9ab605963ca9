import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))

export interface RouterProcess {
  child: ChildProcess
  listening: { url: string; adminUrl: string; restored: boolean; backends: Array<{ name: string; weight: number; state: string }> }
  lines: Array<Record<string, unknown>>
  stderr(): string
  exited: Promise<number | null>
}

/** `opsctl router start --json` in a process of its own; resolves on its "listening" line. */
export async function startRouterProcess(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RouterProcess> {
  const child = spawn(process.execPath, [DEV_BIN, 'router', 'start', '--json', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const lines: Array<Record<string, unknown>> = []
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const listening = await new Promise<RouterProcess['listening']>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>
      lines.push(parsed)
      if (parsed.event === 'listening') resolve(parsed as unknown as RouterProcess['listening'])
    })
    void exited.then((code) => reject(new Error(`router exited with ${code} before listening:\n${stderr}`)))
  })
  return { child, listening, lines, stderr: () => stderr, exited }
}

/** The CLI, asynchronously (the test process keeps serving meanwhile). */
export async function cli(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [DEV_BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const [status] = await once(child, 'close')
  return { status: status as number | null, stdout, stderr }
}
