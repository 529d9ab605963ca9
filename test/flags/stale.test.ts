import { describe, expect, it } from 'vitest'
import { resolveReferences, scanSource } from '../../src/flags/scan.js'
import { findStaleFlags } from '../../src/flags/stale.js'

const NOW = new Date('2026-12-31T00:00:00Z')

describe('scanSource finds the flags code asks about', () => {
  it('literal names in the SDK calls of several languages', () => {
    const scan = scanSource(
      [
        "if (unleash.isEnabled('checkout.new-flow', ctx)) {}",
        'const v = client.getVariant("pricing.test")',
        'if client.is_enabled("py.flag"):',
        'if unleash.IsEnabled("go.flag") {',
        'const on = useFlag(`react.flag`)',
        'logger.isEnabled(`debug.${level}`)',
        "x.isEnabled('a' + suffix)",
      ].join('\n'),
      'app.ts',
    )
    expect(scan.references.map((reference) => [reference.flag, reference.line, reference.call])).toEqual([
      ['checkout.new-flow', 1, 'isEnabled'],
      ['pricing.test', 2, 'getVariant'],
      ['py.flag', 3, 'is_enabled'],
      ['go.flag', 4, 'IsEnabled'],
      ['react.flag', 5, 'useFlag'],
    ])
    expect(scan.dynamic).toBe(2)
  })

  it('names held in constants, in this file or another, and in constant objects', () => {
    const flags = scanSource(
      "export const FLAG_ORDERS_EAGER_LOADING = 'orders.eager-loading'\nexport const FLAGS = { SEARCH: 'search.v2' }\n",
      'flags.ts',
    )
    const routes = scanSource(
      'const on = flags.isEnabled(FLAG_ORDERS_EAGER_LOADING, { userId })\n\nif (client.isEnabled(FLAGS.SEARCH)) {}\nisEnabled(name)\n',
      'routes.ts',
    )
    const { references, unresolved } = resolveReferences([flags, routes])
    expect(references).toEqual([
      { flag: 'orders.eager-loading', file: 'routes.ts', line: 1, call: 'isEnabled' },
      { flag: 'search.v2', file: 'routes.ts', line: 3, call: 'isEnabled' },
    ])
    expect(unresolved).toBe(1)
  })

  it('does not guess when a constant name has two values', () => {
    const a = scanSource("const NAME = 'a.flag'\nisEnabled(NAME)", 'a.ts')
    const b = scanSource("const NAME = 'b.flag'", 'b.ts')
    expect(resolveReferences([a, b])).toEqual({ references: [], unresolved: 1 })
  })
})

describe('findStaleFlags', () => {
  const flag = (name: string, type: string, createdAt: string, evaluations?: number) => ({
    name,
    type,
    createdAt,
    evaluations,
    lastSeenAt: evaluations ? '2026-12-30T00:00:00Z' : undefined,
  })

  it('release and experiment flags past 40 days, operational past 7; kill switches and permissions never', () => {
    const report = findStaleFlags({
      flags: [
        flag('release.old', 'release', '2026-11-20', 5),
        flag('release.new', 'release', '2026-11-22', 5),
        flag('experiment.old', 'experiment', '2026-10-01', 5),
        flag('ops.old', 'operational', '2026-12-23', 5),
        flag('ops.new', 'operational', '2026-12-24', 5),
        flag('kill.old', 'kill-switch', '2020-01-01', 5),
        flag('permission.old', 'permission', '2020-01-01', 5),
      ],
      evaluationsKnown: true,
      now: NOW,
    })
    expect(report.findings.map((finding) => [finding.flag, finding.rule])).toEqual([
      ['experiment.old', 'past-lifetime'],
      ['ops.old', 'past-lifetime'],
      ['release.old', 'past-lifetime'],
    ])
    expect(report.findings[2]!.message).toBe('release flag is 41 days old; release flags are expected to be removed within 40 days')
  })

  it('flags never evaluated, once SDKs report at all', () => {
    const flags = [flag('used', 'kill-switch', '2026-12-01', 3), flag('unused', 'kill-switch', '2026-12-01')]
    expect(findStaleFlags({ flags, evaluationsKnown: true, now: NOW }).findings).toEqual([
      { flag: 'unused', rule: 'never-evaluated', message: 'no SDK has reported evaluating it' },
    ])
    const none = findStaleFlags({ flags, evaluationsKnown: false, now: NOW })
    expect(none.findings).toEqual([])
    expect(none.skipped[0]).toContain('never-evaluated: no SDK has reported metrics yet')
  })

  it('code and file disagreeing, both ways', () => {
    const report = findStaleFlags({
      flags: [flag('defined.used', 'kill-switch', '2026-12-01', 1), flag('defined.unused', 'kill-switch', '2026-12-01', 1)],
      references: [
        { flag: 'defined.used', file: 'a.ts', line: 3, call: 'isEnabled' },
        { flag: 'missing.one', file: 'b.ts', line: 7, call: 'getVariant' },
        { flag: 'missing.one', file: 'c.ts', line: 1, call: 'isEnabled' },
      ],
      evaluationsKnown: true,
      now: NOW,
    })
    expect(report.findings).toEqual([
      { flag: 'defined.unused', rule: 'unused-in-code', message: 'defined but no SDK call in the scanned code names it' },
      {
        flag: 'missing.one',
        rule: 'missing-definition',
        message: 'named in code (b.ts:7, c.ts:1) but not defined',
        references: [
          { file: 'b.ts', line: 7 },
          { file: 'c.ts', line: 1 },
        ],
      },
    ])
  })
})
