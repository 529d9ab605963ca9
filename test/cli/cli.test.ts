import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { makeTempDir } from '../helpers/temp.js'

function dirWithConfig(yaml: string): string {
  const dir = makeTempDir('opsctl-cli-')
  writeFileSync(join(dir, 'opsctl.yaml'), yaml)
  return dir
}

describe('the opsctl CLI', () => {
  it('lists its topics in --help and prints its version', () => {
    const help = runCli(['--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/TOPICS/)
    expect(help.stdout).toMatch(/config/)
    const version = runCli(['--version'])
    expect(version.stdout).toMatch(/^opsctl\/\d+\.\d+\.\d+/)
  })

  it('refuses a config with a misspelled key: exit 2, key, file and line, no stack trace', () => {
    const dir = dirWithConfig('journal:\n  segmentSise: 1MB\n')
    const result = runCli(['config', 'validate'], { cwd: dir })
    expect(result.status).toBe(2)
    expect(result.stderr).toContain(`${join(dir, 'opsctl.yaml')}:2:3: unknown key "journal.segmentSise" (did you mean "segmentSize"?)`)
    expect(result.stderr).toMatch(/Try: /)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(result.stdout).toBe('')
  })

  it('prints the stack trace only with --debug', () => {
    const dir = dirWithConfig('journal:\n  segmentSise: 1MB\n')
    expect(runCli(['config', 'validate', '--debug'], { cwd: dir }).stderr).toMatch(/\n\s+at /)
  })

  it('with --json prints one JSON document on stdout, also for errors', () => {
    const ok = runCli(['config', 'show', '--json'], { cwd: dirWithConfig('service:\n  name: api\n') })
    expect(JSON.parse(ok.stdout).config.service.name).toBe('api')
    const failed = runCli(['config', 'show', '--json'], { cwd: dirWithConfig('service: 3\n') })
    expect(failed.status).toBe(2)
    expect(JSON.parse(failed.stdout).error).toMatchObject({ exit: 2, message: expect.stringMatching(/service/) })
  })

  it('never prints passwords from connection URLs', () => {
    const result = runCli(['config', 'show', '--json'], {
      cwd: dirWithConfig(''),
      env: { DATABASE_URL: 'postgres://app:hunter2@db:5432/app' },
    })
    expect(result.stdout).not.toContain('hunter2')
    expect(result.stdout).toContain('postgres://app:***@db:5432/app')
  })

  it('treats an unknown command or flag as bad usage (exit 2)', () => {
    const command = runCli(['frobnicate'])
    expect(command.status).toBe(2)
    expect(command.stderr).toMatch(/not an opsctl command/)
    const flag = runCli(['config', 'show', '--nope'])
    expect(flag.status).toBe(2)
    expect(flag.stderr).toMatch(/Nonexistent flag: --nope/)
  })
})
