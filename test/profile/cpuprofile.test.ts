import { describe, expect, it } from 'vitest'
import { OpsError } from '../../src/core/index.js'
import { cpuProfileStacks, parseCpuProfile, trimCpuProfile, type CpuProfile } from '../../src/profile/cpuprofile.js'
import { formatFolded } from '../../src/profile/folded.js'
import { mapCpuProfile } from '../../src/profile/source-maps.js'
import { summarizeProfile } from '../../src/profile/summary.js'
import { cpuProfile, frame } from './profiles.js'

function failure(run: () => unknown): OpsError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError)
    return error as OpsError
  }
  throw new Error('expected an error')
}

describe('V8 .cpuprofile', () => {
  const profile = cpuProfile({
    '(root)': { children: ['main', '(idle)', '(garbage collector)'] },
    main: { frame: frame('main', '/srv/app/server.js', 0), children: ['crunch', 'writev'] },
    crunch: { frame: frame('crunch', '/srv/app/lib/crunch.js', 9, 4), self: 7 },
    writev: { frame: frame('writev', '', -1), self: 1 },
    '(idle)': { self: 2 },
    '(garbage collector)': { self: 1 },
  })

  it('becomes stacks with 1-based file:line:column, relative to the base directory', () => {
    const stacks = cpuProfileStacks(parseCpuProfile(JSON.stringify(profile), 'p.cpuprofile'), { baseDir: '/srv/app' })
    expect(formatFolded(stacks)).toBe(
      ['(garbage collector) 1', '(idle) 2', 'main (server.js:1:1);crunch (lib/crunch.js:10:5) 7', 'main (server.js:1:1);writev 1', ''].join(
        '\n',
      ),
    )
    const summary = summarizeProfile(stacks)
    expect(summary.topSelf[0]).toMatchObject({ name: 'crunch', location: 'lib/crunch.js:10', selfShare: 7 / 11 })
    expect(summary.shares.idle).toBeCloseTo(2 / 11)
  })

  it('says where truncated JSON ends (exit 2)', () => {
    const text = JSON.stringify(profile, null, 2)
    const error = failure(() => parseCpuProfile(text.slice(0, Math.floor(text.length / 2)), 'cut.cpuprofile'))
    expect(error.exit).toBe(2)
    expect(error.message).toMatch(
      /Cannot read CPU profile cut\.cpuprofile: the JSON ends early at line \d+, column \d+ \(the file is truncated\)/,
    )
  })

  it('says where invalid JSON is', () => {
    const error = failure(() => parseCpuProfile('{\n  "nodes": [}\n', 'bad.cpuprofile'))
    expect(error.exit).toBe(2)
    expect(error.message).toMatch(/invalid JSON at line 2, column \d+/)
  })

  it('names the field that makes a document not a profile', () => {
    expect(failure(() => parseCpuProfile('{"nodes": []}', 'x.cpuprofile')).message).toContain('nodes should be a non-empty array')
    const broken = structuredClone(profile) as CpuProfile
    ;(broken.nodes[1]!.callFrame as { url?: unknown }).url = 3
    expect(failure(() => parseCpuProfile(JSON.stringify(broken), 'x.cpuprofile')).message).toContain(
      'nodes[1].callFrame.url should be a string',
    )
    const dangling = structuredClone(profile) as CpuProfile
    dangling.samples![0] = 999
    expect(failure(() => parseCpuProfile(JSON.stringify(dangling), 'x.cpuprofile')).message).toContain(
      'samples should be an array of node ids',
    )
  })

  it('keeps only the samples of a time window, with hit counts to match', () => {
    // one sample per millisecond from startTime 1_000_000 µs
    const window = { fromUs: profile.startTime + 3_000, toUs: profile.startTime + 6_000 }
    const trimmed = trimCpuProfile(profile, window)
    expect(trimmed.samples).toHaveLength(4)
    expect(trimmed.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0)).toBe(4)
    expect(trimmed.startTime).toBe(window.fromUs)
    expect(cpuProfileStacks(trimmed).total).toBe(4)
    expect(cpuProfileStacks(profile, { window }).total).toBe(4)
  })

  it('maps transpiled positions back through inline source maps', () => {
    const generated = cpuProfile({
      '(root)': { children: ['aggregate'] },
      aggregate: { frame: frame('aggregate', '/srv/app/revenue.ts', 0, 12), self: 1 },
    })
    // generated line 0: column 0 -> original 0:0, column 10 -> original line 5 (1-based 6), column 0
    const mapped = mapCpuProfile(generated, {
      'file:///srv/app/revenue.ts': {
        version: 3,
        file: 'revenue.ts',
        sources: ['/srv/app/revenue.ts'],
        sourceRoot: '',
        sourcesContent: [],
        names: [],
        mappings: 'AAAA,UAKA',
      },
    })
    expect(formatFolded(cpuProfileStacks(mapped, { baseDir: '/srv/app' }))).toBe('aggregate (revenue.ts:6:1) 1\n')
  })
})
