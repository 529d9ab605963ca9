/**
 * On the embedded PGlite database there are no other backends: `db activity` says what it cannot
 * show and exits 0 with what it can; cancel and terminate are refused as an environment limit.
 */
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { makeTempDir } from '../helpers/temp.js'

// An empty DATABASE_URL is no URL: the embedded database (in the temp dir's .opsctl/).
const opsctl = (args: string[], cwd: string) => runCli(args, { cwd, env: { DATABASE_URL: '', CI: '1' } })

describe('db activity on the embedded database', { timeout: 300_000 }, () => {
  it('says what is unavailable, shows what it can, and exits 0', () => {
    const cwd = makeTempDir('opsctl-activity-embedded-')
    const result = opsctl(['db', 'activity', '--json'], cwd)
    expect(result.status).toBe(0)
    const snapshot = JSON.parse(result.stdout) as Record<string, unknown> & { unavailable: Array<{ what: string; why: string }> }
    expect(snapshot).toMatchObject({
      database: { kind: 'embedded', role: 'postgres' },
      connections: null,
      sessions: [],
      lockTrees: [],
      statements: { available: false, reason: 'pg_stat_statements is not available in the embedded PGlite database' },
      findings: [],
    })
    expect(snapshot.unavailable.map((item) => item.what)).toEqual(['sessions, connection counts and lock chains', 'cancel and terminate'])
    expect(snapshot.unavailable[0]!.why).toContain('the embedded PGlite database runs one backend')
    expect(result.stderr).toContain('Starting the embedded database (PGlite)')
  })

  it('refuses cancel and terminate without starting it (exit 3)', () => {
    const cwd = makeTempDir('opsctl-activity-embedded-')
    const result = opsctl(['db', 'activity', 'terminate', '42', '--yes'], cwd)
    expect(result.status).toBe(3)
    expect(result.stderr).toContain('Cannot terminate sessions of the embedded PGlite database')
    expect(result.stderr).not.toContain('Starting the embedded database')
  })
})
