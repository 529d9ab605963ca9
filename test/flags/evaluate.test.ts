import { Unleash } from 'unleash-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toClientFeatures, type ClientFeature } from '../../src/flags/client-api.js'
import { evaluateFeature, type EvaluationContext } from '../../src/flags/evaluate.js'
import { compareSemVer, parseSemVer } from '../../src/flags/semver.js'
import { loaded } from './fixtures.js'

const NOW = new Date('2026-06-15T12:00:00Z')
const options = { now: NOW, random: () => 0.5 }

/** Every operator (plain, inverted, case-insensitive), every strategy, variants at both levels. */
const FLAGS = `environments: [production]
flags:
${[
  ['IN', 'values: [web, ios]'],
  ['NOT_IN', 'values: [web]'],
  ['STR_STARTS_WITH', 'values: [Sto, x]'],
  ['STR_ENDS_WITH', 'values: [-eu]'],
  ['STR_CONTAINS', 'values: [hol]'],
  ['NUM_EQ', 'value: 3'],
  ['NUM_GT', 'value: 2.5'],
  ['NUM_GTE', 'value: 3'],
  ['NUM_LT', 'value: 4'],
  ['NUM_LTE', 'value: 1'],
  ['DATE_AFTER', 'value: "2026-06-01T00:00:00Z"'],
  ['DATE_BEFORE', 'value: "2026-06-20T00:00:00Z"'],
  ['SEMVER_EQ', 'value: 1.2.3'],
  ['SEMVER_GT', 'value: 1.2.3-beta.2'],
  ['SEMVER_GTE', 'value: 2.0.0'],
  ['SEMVER_LT', 'value: 1.10.0'],
  ['SEMVER_LTE', 'value: 1.2.3-rc.1'],
  ['REGEX', 'value: "^user-(1|2)\\\\d$"'],
  ['IN_CIDR', 'values: [10.0.0.0/8, "192.168.1.7", "2001:db8::/32"]'],
]
  .flatMap(([operator, value], index) =>
    [false, true].flatMap((inverted) =>
      [false, true].map((caseInsensitive) => {
        const field = operator!.startsWith('NUM')
          ? 'count'
          : operator!.startsWith('DATE')
            ? 'currentTime'
            : operator!.startsWith('SEMVER')
              ? 'version'
              : operator === 'IN_CIDR'
                ? 'remoteAddress'
                : operator === 'REGEX'
                  ? 'userId'
                  : index % 2
                    ? 'region'
                    : 'appName'
        return `  op.${operator!.toLowerCase()}.${inverted ? 'inv' : 'pos'}.${caseInsensitive ? 'ci' : 'cs'}:
    type: release
    description: d
    owner: o
    created: 2026-01-01
    environments:
      production:
        enabled: true
        strategies:
          - name: default
            constraints:
              - { contextName: ${field}, operator: ${operator}, ${value}, inverted: ${inverted}, caseInsensitive: ${caseInsensitive} }
`
      }),
    ),
  )
  .join('')}
  rollout.by-user:
    type: release
    description: d
    owner: o
    created: 2026-01-01
    environments:
      production:
        enabled: true
        strategies:
          - { name: flexibleRollout, rollout: 37% }
  rollout.by-session:
    type: release
    description: d
    owner: o
    created: 2026-01-01
    environments:
      production:
        enabled: true
        strategies:
          - { name: flexibleRollout, rollout: 50, stickiness: sessionId, groupId: shared }
  rollout.by-property:
    type: release
    description: d
    owner: o
    created: 2026-01-01
    environments:
      production:
        enabled: true
        strategies:
          - { name: flexibleRollout, rollout: 20%, stickiness: tenant }
          - { name: userWithId, userIds: [user-3, user-77] }
          - { name: remoteAddress, IPs: ["172.16.0.0/12", "2001:db8::1"] }
  variants.feature:
    type: experiment
    description: d
    owner: o
    created: 2026-01-01
    environments:
      production:
        enabled: true
        strategies:
          - { name: flexibleRollout, rollout: 80% }
        variants:
          - { name: red, weight: 20%, payload: { type: string, value: R } }
          - { name: green, payload: { type: json, value: { shade: 3 } } }
          - { name: blue, overrides: [{ contextName: region, values: [us-east] }] }
  variants.strategy:
    type: experiment
    description: d
    owner: o
    created: 2026-01-01
    environments:
      production:
        enabled: true
        strategies:
          - name: flexibleRollout
            rollout: 70%
            stickiness: tenant
            variants:
              - { name: a, stickiness: tenant }
              - { name: b, weight: 10% }
          - name: default
            variants:
              - { name: fallback-variant }
  off.everywhere:
    type: kill-switch
    description: d
    owner: o
    created: 2026-01-01
    environments:
      production:
        enabled: false
`

function contexts(): EvaluationContext[] {
  const apps = ['web', 'WEB', 'ios', 'android', 'Store', 'stock']
  const regions = ['eu-west', 'us-east', 'ap-south-EU', 'holland', 'HOLy']
  const versions = [
    '1.2.3',
    '1.2.3-beta.10',
    '1.2.3-beta.2',
    '1.10.0',
    '2.0.0',
    '2.0.0-rc.1',
    'v1.2.3',
    '1.2',
    'banana',
    '1.2.3-rc.1',
    '1.2.3+build.5',
    '0.9.9',
  ]
  const addresses = [
    '10.1.2.3',
    '192.168.1.7',
    '192.168.1.8',
    '172.20.0.1',
    '8.8.8.8',
    '2001:db8::1',
    '2001:db8:0:0::ff',
    '2001:db9::1',
    '::ffff:10.0.0.1',
    'not-an-ip',
  ]
  const counts = ['1', '2', '3', '3.0', '4', 'x', '-1', '']
  const times = ['2026-05-31T23:59:59Z', '2026-06-10T00:00:00Z', '2026-06-25T00:00:00Z']
  return Array.from({ length: 200 }, (_, i) => ({
    userId: `user-${i}`,
    sessionId: `session-${(i * 7919) % 1000}`,
    appName: apps[i % apps.length]!,
    remoteAddress: addresses[i % addresses.length]!,
    currentTime: times[i % times.length]!,
    properties: {
      region: regions[i % regions.length]!,
      version: versions[i % versions.length]!,
      count: counts[i % counts.length]!,
      tenant: `tenant-${i % 37}`,
    },
  }))
}

describe('evaluateFeature agrees with unleash-client 6', () => {
  let sdk: Unleash
  let features: ClientFeature[]

  beforeAll(async () => {
    features = toClientFeatures(loaded(FLAGS).flags, 'production')
    sdk = new Unleash({
      appName: 'evaluate-test',
      url: 'http://127.0.0.1:9/api/',
      refreshInterval: 0,
      disableMetrics: true,
      bootstrap: { data: features as never },
      skipInstanceCountWarning: true,
    })
    sdk.on('error', () => {})
    await new Promise<void>((resolve) => (sdk.isSynchronized() ? resolve() : sdk.once('ready', () => resolve())))
  })
  afterAll(() => sdk.destroy())

  it('on every flag, for 200 contexts: the same on/off and the same variant', () => {
    expect(features.length).toBeGreaterThan(80)
    let enabled = 0
    let compared = 0
    const mismatches: unknown[] = []
    for (const context of contexts()) {
      // The SDK takes the context with appName/environment filled in from its config unless given.
      const full = { environment: 'default', ...context }
      for (const feature of features) {
        const mine = evaluateFeature(feature, full, options)
        const sdkEnabled = sdk.isEnabled(feature.name, context as never)
        const theirs = sdk.getVariant(feature.name, context as never)
        const theirVariant = {
          name: theirs.name,
          enabled: theirs.enabled,
          ...(theirs.payload ? { payload: theirs.payload } : {}),
          feature_enabled: theirs.feature_enabled,
        }
        if (mine.enabled !== sdkEnabled || JSON.stringify(mine.variant) !== JSON.stringify(theirVariant)) {
          mismatches.push({ flag: feature.name, context, mine, theirs: { enabled: sdkEnabled, variant: theirVariant } })
        }
        if (mine.enabled) enabled++
        compared++
      }
    }
    expect(mismatches.slice(0, 3)).toEqual([])
    // Both outcomes occur often enough for the comparison to mean something.
    expect(enabled).toBeGreaterThan(compared * 0.15)
    expect(compared - enabled).toBeGreaterThan(compared * 0.15)
  })
})

describe('constraints, read like the Unleash docs', () => {
  const feature = (constraint: string): ClientFeature =>
    toClientFeatures(
      loaded(
        `environments: [p]\nflags:\n  f:\n    type: release\n    description: d\n    owner: o\n    created: 2026-01-01\n    environments:\n      p:\n        enabled: true\n        strategies:\n          - name: default\n            constraints: [${constraint}]\n`,
      ).flags,
      'p',
    )[0]!
  const on = (constraint: string, context: EvaluationContext) => evaluateFeature(feature(constraint), context, options).enabled

  it('IN_CIDR matches IPv4 and IPv6 ranges and single addresses', () => {
    const cidr = '{ contextName: remoteAddress, operator: IN_CIDR, values: ["10.0.0.0/8", "2001:db8::/32", "192.168.0.1"] }'
    expect(on(cidr, { remoteAddress: '10.200.3.4' })).toBe(true)
    expect(on(cidr, { remoteAddress: '11.0.0.1' })).toBe(false)
    expect(on(cidr, { remoteAddress: '2001:db8:ffff::1' })).toBe(true)
    expect(on(cidr, { remoteAddress: '2001:db9::1' })).toBe(false)
    expect(on(cidr, { remoteAddress: '192.168.0.1' })).toBe(true)
    expect(on(cidr, {})).toBe(false)
  })

  it('DATE_AFTER uses the context time, else now', () => {
    const after = '{ contextName: currentTime, operator: DATE_AFTER, value: "2026-06-01T00:00:00Z" }'
    expect(on(after, {})).toBe(true)
    expect(on(after, { currentTime: '2026-05-01T00:00:00Z' })).toBe(false)
  })

  it('a missing context field fails positive operators and passes NOT_IN', () => {
    expect(on('{ contextName: plan, operator: IN, values: [pro] }', {})).toBe(false)
    expect(on('{ contextName: plan, operator: NOT_IN, values: [pro] }', {})).toBe(true)
    expect(on('{ contextName: plan, operator: IN, values: [pro] }', { properties: { plan: 'pro' } })).toBe(true)
  })
})

describe('semantic versions', () => {
  const order = [
    '0.9.9',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.2.0',
    '1.10.0',
    '2.0.0',
  ]
  it('orders versions as SemVer 2.0.0 does, prereleases included', () => {
    for (let i = 0; i + 1 < order.length; i++) expect(compareSemVer(parseSemVer(order[i]!)!, parseSemVer(order[i + 1]!)!)).toBe(-1)
    expect(compareSemVer(parseSemVer('1.2.3+a')!, parseSemVer('1.2.3+b')!)).toBe(0)
  })

  it('refuses what is not a full version', () => {
    for (const text of ['1.2', '01.2.3', '1.2.3-', '1.2.3-01', 'a.b.c', '']) expect(parseSemVer(text)).toBeUndefined()
  })
})
