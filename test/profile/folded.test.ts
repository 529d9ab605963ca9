import { describe, expect, it } from 'vitest'
import { OpsError } from '../../src/core/index.js'
import { formatFolded, parseFolded } from '../../src/profile/folded.js'
import { stackProfile } from '../../src/profile/stacks.js'
import { summarizeProfile } from '../../src/profile/summary.js'

function badInputOf(run: () => unknown): OpsError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError)
    return error as OpsError
  }
  throw new Error('expected a bad-input error')
}

describe('folded stacks', () => {
  it('reads stacks and counts, merging repeated stacks', () => {
    const profile = parseFolded('main;handle;parse 3\nmain;handle 2\nmain;handle;parse 1\n', 'a.folded')
    expect(profile.total).toBe(6)
    expect(profile.stacks).toEqual([
      { frames: ['main', 'handle'], weight: 2 },
      { frames: ['main', 'handle', 'parse'], weight: 4 },
    ])
  })

  it('accepts frames with spaces, parentheses and file positions, CRLF and blank lines', () => {
    const profile = parseFolded('(root);handle request (src/app.js:10:3);JSON.parse 12\r\n\r\n(idle) 5\r\n', 'b.folded')
    expect(profile.stacks.map((stack) => stack.frames)).toContainEqual(['(root)', 'handle request (src/app.js:10:3)', 'JSON.parse'])
    expect(profile.total).toBe(17)
  })

  it('writes what it reads', () => {
    const text = 'a;b 3\na;c 1\n'
    expect(formatFolded(parseFolded(text, 'x'))).toBe(text)
  })

  it('rejects a line without a count, naming the line (exit 2)', () => {
    const error = badInputOf(() => parseFolded('a;b 3\na;b;c\na 1\n', 'prof.folded'))
    expect(error.exit).toBe(2)
    expect(error.message).toContain('prof.folded:2')
    expect(error.message).toContain('a;b;c')
  })

  it('rejects empty frames and a count that is not a number', () => {
    expect(badInputOf(() => parseFolded('a;;b 3\n', 'x.folded')).message).toMatch(/x\.folded:1: .*empty frame/)
    expect(badInputOf(() => parseFolded('ok 1\na;b three\n', 'x.folded')).message).toContain('x.folded:2')
    expect(badInputOf(() => parseFolded('ok 1\n;a 2\n', 'x.folded')).message).toContain('x.folded:2')
  })

  it('rejects a file with no stacks at all', () => {
    expect(badInputOf(() => parseFolded('\n\n', 'empty.folded')).message).toContain('empty.folded has no stacks')
  })
})

describe('summary of a profile', () => {
  const profile = stackProfile('samples', [
    { frames: ['main (app.js:1:1)', 'handle (app.js:10:3)', 'hot (app.js:20:1)'], weight: 60 },
    { frames: ['main (app.js:1:1)', 'handle (app.js:10:3)', 'JSON.parse'], weight: 10 },
    { frames: ['main (app.js:1:1)', 'recurse (app.js:30:1)', 'recurse (app.js:30:1)'], weight: 10 },
    { frames: ['(garbage collector)'], weight: 5 },
    { frames: ['(idle)'], weight: 10 },
    { frames: ['(program)'], weight: 5 },
  ])

  it('ranks functions by self time with file:line and share of all samples', () => {
    const summary = summarizeProfile(profile, 3)
    expect(summary.topSelf.map((stat) => [stat.name, stat.location, stat.selfShare])).toEqual([
      ['hot', 'app.js:20', 0.6],
      ['JSON.parse', '', 0.1],
      ['recurse', 'app.js:30', 0.1],
    ])
  })

  it('counts a recursive function once per sample in total time', () => {
    const recurse = summarizeProfile(profile).topTotal.find((stat) => stat.name === 'recurse')!
    expect(recurse.total).toBe(10)
    expect(summarizeProfile(profile).topTotal[0]).toMatchObject({ name: 'main', totalShare: 0.8 })
  })

  it('leaves idle, GC and (program) out of the function lists and reports their shares', () => {
    const summary = summarizeProfile(profile)
    expect(summary.topSelf.map((stat) => stat.name)).not.toContain('(idle)')
    expect(summary.shares).toEqual({ gc: 0.05, idle: 0.1, native: 0.15, js: 0.7 })
  })

  it("lists the app's own code without Node core and node_modules", () => {
    const withDeps = stackProfile('samples', [
      { frames: ['parse (node_modules/pg/lib/result.js:63:1)'], weight: 50 },
      { frames: ['slice (node:buffer:635:1)'], weight: 40 },
      { frames: ['aggregate (src/revenue.ts:51:1)'], weight: 10 },
    ])
    expect(summarizeProfile(withDeps).topSelfApp.map((stat) => stat.name)).toEqual(['aggregate'])
  })
})
