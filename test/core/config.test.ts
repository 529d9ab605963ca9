import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExitCode, OpsError, configLeaves, loadConfig } from '../../src/core/index.js'
import { makeTempDir } from '../helpers/temp.js'

function configDir(yaml: string): string {
  const dir = makeTempDir('opsctl-config-')
  writeFileSync(join(dir, 'opsctl.yaml'), yaml)
  return dir
}

function loadError(yaml: string, env: NodeJS.ProcessEnv = {}): OpsError {
  try {
    loadConfig({ cwd: configDir(yaml), env })
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError)
    return error as OpsError
  }
  throw new Error('expected the config to be refused')
}

describe('loadConfig', () => {
  it('applies defaults when there is no config file', () => {
    const dir = makeTempDir('opsctl-empty-')
    const settings = loadConfig({ cwd: dir, env: {} })
    expect(settings.configPath).toBeUndefined()
    expect(settings.stateDir).toBe(join(dir, '.opsctl'))
    expect(settings.config.journal).toEqual({ durable: true, segmentSize: '64MB' })
  })

  it('puts the state directory beside the config, found from a subdirectory', () => {
    const dir = configDir('service:\n  name: api\n')
    const settings = loadConfig({ cwd: join(dir), env: {} })
    expect(settings.config.service.name).toBe('api')
    expect(settings.stateDir).toBe(join(dir, '.opsctl'))
  })

  it('refuses a misspelled key with the key path, the file and the line', () => {
    const error = loadError('service:\n  name: api\njournal:\n  durabel: true\n')
    expect(error.exit).toBe(ExitCode.BadInput)
    expect(error.message).toMatch(/opsctl\.yaml:4:3: unknown key "journal\.durabel" \(did you mean "durable"\?\)/)
  })

  it('refuses an unknown top-level section', () => {
    expect(loadError('servce:\n  name: api\n').message).toMatch(/opsctl\.yaml:1:1: unknown key "servce" \(did you mean "service"\?\)/)
  })

  it('refuses a wrong type at the line of the value', () => {
    const error = loadError('database:\n  embeddedPort: "five"\n')
    expect(error.message).toMatch(/opsctl\.yaml:2:17: database\.embeddedPort: .*expected number/)
  })

  it('reports invalid YAML with its position', () => {
    const error = loadError('service:\n  name: [api\n')
    expect(error.exit).toBe(ExitCode.BadInput)
    expect(error.message).toMatch(/opsctl\.yaml:\d+:\d+: invalid YAML/)
  })

  it('refuses a document that is not a mapping', () => {
    expect(loadError('- a\n- b\n').message).toMatch(/must be a mapping/)
  })

  it('refuses duplicate keys instead of silently keeping one', () => {
    expect(loadError('service:\n  name: a\n  name: b\n').message).toMatch(/invalid YAML/)
  })

  it('lets OPSCTL_* variables override the file and flags override both', () => {
    const dir = configDir('journal:\n  durable: true\n  segmentSize: 1MB\n')
    const fromEnv = loadConfig({ cwd: dir, env: { OPSCTL_JOURNAL_DURABLE: 'false', OPSCTL_JOURNAL_SEGMENT_SIZE: '2MB' } })
    expect(fromEnv.config.journal).toMatchObject({ durable: false, segmentSize: '2MB' })
    const fromFlag = loadConfig({ cwd: dir, env: { OPSCTL_JOURNAL_SEGMENT_SIZE: '2MB' }, overrides: { 'journal.segmentSize': '3MB' } })
    expect(fromFlag.config.journal.segmentSize).toBe('3MB')
  })

  it('reads DATABASE_URL as database.url, with OPSCTL_DATABASE_URL taking precedence', () => {
    const dir = configDir('')
    expect(loadConfig({ cwd: dir, env: { DATABASE_URL: 'postgres://a@h/db' } }).config.database.url).toBe('postgres://a@h/db')
    expect(
      loadConfig({ cwd: dir, env: { DATABASE_URL: 'postgres://a@h/db', OPSCTL_DATABASE_URL: 'postgres://b@h/db' } }).config.database.url,
    ).toBe('postgres://b@h/db')
  })

  it('names the variable when an environment override has the wrong type', () => {
    expect(loadError('', { OPSCTL_DATABASE_EMBEDDED_PORT: 'x' }).message).toMatch(/OPSCTL_DATABASE_EMBEDDED_PORT="x": expected a number/)
    expect(loadError('', { OPSCTL_DATABASE_EMBEDDED_PORT: '70000' }).message).toMatch(
      /OPSCTL_DATABASE_EMBEDDED_PORT \(or a flag\): database\.embeddedPort/,
    )
  })

  it('refuses an explicit --config that does not exist', () => {
    expect(() => loadConfig({ configPath: '/nonexistent/opsctl.yaml', env: {} })).toThrow(/does not exist/)
  })

  it('derives an environment variable for every key', () => {
    const names = configLeaves().map((leaf) => leaf.env)
    expect(names).toContain('OPSCTL_JOURNAL_SEGMENT_SIZE')
    expect(names).toContain('OPSCTL_DATABASE_URL')
    expect(new Set(names).size).toBe(names.length)
  })

  it('survives hostile input: deep nesting, huge scalars and anchors bombs are refused, not crashed on', () => {
    const bomb =
      'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n'
    expect(loadError(bomb).exit).toBe(ExitCode.BadInput)
    expect(loadError(`service:\n  name: ${'x'.repeat(100_000)}\n  bogus: 1\n`).message).toMatch(/unknown key "service\.bogus"/)
    expect(loadError('\u0000\u0001binary').exit).toBe(ExitCode.BadInput)
  })
})
