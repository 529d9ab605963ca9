/**
 * `db activity --watch` as a user runs it: in a terminal (a tmux pane), it refreshes in place and
 * quits on q with exit 0; without a terminal it says so and prints one snapshot.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, runCli } from '../helpers/cli.js'
import { SERVER_URL, isServerReachable } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { makeTempDir } from '../helpers/temp.js'

const serverAvailable = requireOrSkip(await isServerReachable(), 'no PostgreSQL server reachable for the --watch tests')
const hasTmux = spawnSync('tmux', ['-V']).status === 0
const session = `opsctl-activity-watch-${process.pid}`
const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' })

afterAll(() => {
  if (hasTmux) tmux('kill-session', '-t', session)
})

async function until(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

describe.runIf(serverAvailable)('db activity --watch', { timeout: 300_000 }, () => {
  it('refreshes in a terminal and quits on q with exit 0', async () => {
    if (!requireOrSkip(hasTmux, 'tmux is not installed (Debian: tmux)')) return
    const dir = makeTempDir('opsctl-activity-watch-')
    const exitFile = join(dir, 'exit')
    // CI unset: Ink draws only the last frame when it sees CI, and this pane is a terminal
    const command = `cd ${dir} && env -u CI DATABASE_URL=${SERVER_URL} NO_COLOR=1 node ${join(ROOT, 'bin/dev.js')} db activity --watch --interval 300ms; echo $? > ${exitFile}`
    expect(tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '80', command).status).toBe(0)
    const pane = () => tmux('capture-pane', '-p', '-t', session).stdout ?? ''
    await until(() => pane().includes('q quits · r refreshes now · every 300ms') && pane().includes('Connections'), 'the watch view')
    const taken = () => pane().match(/\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d)/)?.[1]
    const first = taken()
    expect(first).toBeDefined()
    await until(() => (taken() ?? first) !== first, 'a refresh')
    expect(pane()).not.toMatch(/\u001B\[/)
    tmux('send-keys', '-t', session, 'q')
    await until(() => existsSync(exitFile), 'the command to exit', 30_000)
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('0')
  })

  it('without a terminal, says so and prints one snapshot; with --json it is refused', () => {
    const cwd = makeTempDir('opsctl-activity-watch-')
    const result = runCli(['db', 'activity', '--watch'], { cwd, env: { DATABASE_URL: SERVER_URL, CI: '1' } })
    expect(result.status).toBe(0)
    expect(result.stderr).toContain('--watch needs a terminal (stdin and stdout); printing one snapshot instead.')
    expect(result.stdout).toContain('Database activity · PostgreSQL at 127.0.0.1:5432')
    const json = runCli(['db', 'activity', '--watch', '--json'], { cwd, env: { DATABASE_URL: SERVER_URL, CI: '1' } })
    expect(json.status).toBe(2)
  })
})
