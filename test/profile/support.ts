import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const RUNNER = fileURLToPath(new URL('./run-command.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')

export interface CliRun {
  status: number | null
  stdout: string
  stderr: string
}

const COMMANDS: Record<string, string> = {
  profile: 'commands/profile/index.ts',
  'profile diff': 'commands/profile/diff.ts',
  'profile leak': 'commands/profile/leak.ts',
}

/**
 * `opsctl profile ...` from the TypeScript sources, in a child process like a user's shell (the
 * profiled target is a grandchild). Asynchronous, so a test can run servers meanwhile.
 */
export function runOpsctl(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  const [first, second] = args
  const id = second !== undefined && COMMANDS[`${first} ${second}`] ? `${first} ${second}` : first!
  const rest = args.slice(id.split(' ').length)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, RUNNER, COMMANDS[id]!, ...rest], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000)
    child.once('error', reject)
    child.once('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

/** A scratch directory (its own .opsctl state: journal, profiles) removed by `remove()`. */
export function scratchDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `opsctl-${prefix}-`))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The journal events of a scratch directory's file journal. */
export function journalEvents(stateDir: string): Array<{ kind: string; subject?: string; data: Record<string, unknown> }> {
  const dir = join(stateDir, 'journal')
  return readdirSync(dir)
    .filter((file) => !file.startsWith('.') && !file.endsWith('.lock'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line.replace(/\t[0-9a-f]+$/, '')) as { kind: string; subject?: string; data: Record<string, unknown> })
}

/** Every line of a JSON document printed on stdout (the CLI's --json output). */
export function parseJson<T>(stdout: string): T {
  return JSON.parse(stdout) as T
}
