import { describe, expect, it } from 'vitest'
import { toClientFeature, toClientFeatures, toClientVariants } from '../../src/flags/client-api.js'
import { SAMPLE_FLAGS, errorOf, loaded } from './fixtures.js'

const minimal = (flag: string, top = 'environments: [development, production]\n') => `${top}flags:\n${flag}`
const flag = (environments: string, extra = '') => `  a.flag:
    type: release
    description: d
    owner: me
    created: 2026-01-01${extra}
    environments:
${environments}`

describe('flags.yaml validation', () => {
  it('reads a file with every kind of strategy, constraints and variants', () => {
    const flags = loaded().flags
    expect(Object.keys(flags.flags)).toEqual(['orders.eager-loading', 'checkout.new-flow'])
    const production = flags.flags['checkout.new-flow']!.environments.production!
    expect(production.strategies.map((strategy) => strategy.name)).toEqual(['userWithId', 'flexibleRollout'])
    expect(production.strategies[1]).toMatchObject({ name: 'flexibleRollout', rollout: 50, stickiness: 'default' })
    expect(production.variants.map((variant) => variant.weight)).toEqual([300, undefined])
  })

  it('refuses an unknown strategy with its path and line', () => {
    const text = minimal(flag('      development:\n        enabled: true\n        strategies:\n          - name: gradualRollout\n'))
    const { message, exit } = errorOf(() => loaded(text))
    expect(exit).toBe(2)
    expect(message).toContain(
      'flags.yaml:12:19: flags.a.flag.environments.development.strategies[0].name: unknown strategy "gradualRollout"',
    )
    expect(message).toContain(
      'known: default, flexibleRollout, userWithId, remoteAddress, gradualRolloutUserId, gradualRolloutSessionId, gradualRolloutRandom',
    )
  })

  it('refuses a rollout of 140% at its line', () => {
    const text = minimal(
      flag('      production:\n        enabled: true\n        strategies:\n          - name: flexibleRollout\n            rollout: 140%\n'),
    )
    const { message, exit } = errorOf(() => loaded(text))
    expect(exit).toBe(2)
    expect(message).toMatch(
      /^flags\.yaml:13:22: flags\.a\.flag\.environments\.production\.strategies\[0\]\.rollout: rollout must be a whole percentage from 0% to 100%, got "140%"/,
    )
  })

  it('refuses a flag defined twice, naming it and the line of the second one', () => {
    const text = minimal(`${flag('      development:\n        enabled: true\n')}${flag('      development:\n        enabled: false\n')}`)
    const { message, exit } = errorOf(() => loaded(text))
    expect(exit).toBe(2)
    expect(message).toBe('flags.yaml:11:3: duplicate flag "a.flag": it is defined more than once')
  })

  it('refuses a YAML syntax error with its line and column', () => {
    const text = minimal(flag('      development:\n        enabled: [true\n'))
    const { message, exit } = errorOf(() => loaded(text))
    expect(exit).toBe(2)
    expect(message).toMatch(/^flags\.yaml:\d+:\d+: invalid YAML: /)
  })

  it('refuses an environment that is not declared, and says which are', () => {
    const { message } = errorOf(() => loaded(minimal(flag('      staging:\n        enabled: true\n'))))
    expect(message).toContain(
      'flags.yaml:9:7: flags.a.flag.environments.staging: unknown environment "staging" (declared: development, production',
    )
  })

  it('suggests the key that was probably meant', () => {
    const { message } = errorOf(() => loaded(minimal(flag('      development:\n        enabled: true\n', '\n    ownr: x'))))
    expect(message).toContain('unknown key "flags.a.flag.ownr" (did you mean "owner"?)')
  })

  it('refuses an unknown flag type, an operator that is not a word, and a constraint given the wrong arity', () => {
    expect(
      errorOf(() => loaded(minimal(flag('      development:\n        enabled: true\n').replace('type: release', 'type: temporary'))))
        .message,
    ).toContain('unknown flag type "temporary" (known: release, experiment, operational, kill-switch, permission)')
    const constraint = (body: string) =>
      minimal(
        flag(
          `      development:\n        enabled: true\n        strategies:\n          - name: default\n            constraints:\n              - contextName: userId\n${body}`,
        ),
      )
    expect(errorOf(() => loaded(constraint("                operator: 'x >'\n                values: [a]\n"))).message).toContain(
      'an operator is a word such as IN or NUM_GT',
    )
    expect(errorOf(() => loaded(constraint('                operator: NUM_GT\n                values: [1]\n'))).message).toContain(
      'NUM_GT compares with one value',
    )
    expect(errorOf(() => loaded(constraint('                operator: IN\n                value: a\n'))).message).toContain(
      'IN takes a list: give values: [...]',
    )
    expect(errorOf(() => loaded(constraint('                operator: DATE_AFTER\n                value: soon\n'))).message).toContain(
      'DATE_AFTER needs an ISO 8601 date',
    )
  })

  it('keeps an operator Unleash does not have, as SDKs read it (never matching), with a notice and a guess', () => {
    const text = minimal(
      flag(
        '      development:\n        enabled: true\n        strategies:\n          - name: default\n            constraints:\n              - { contextName: userId, operator: NUM_GTT, value: "3" }\n',
      ),
    )
    const { flags, notices } = loaded(text)
    expect(notices).toEqual([
      expect.stringMatching(
        /operator "NUM_GTT" is not one of Unleash's: SDKs treat this constraint as never matching, inverted or not \(did you mean "NUM_GT"\?\)/,
      ),
    ])
    const served = toClientFeature('a.flag', flags.flags['a.flag']!, 'development')
    expect(served.strategies[0]!.constraints).toEqual([
      { contextName: 'userId', operator: 'NUM_GTT', values: [], value: '3', inverted: false, caseInsensitive: false },
    ])
  })

  it('refuses variant weights over 100%, and fixed weights that do not add up', () => {
    const variants = (body: string) => minimal(flag(`      development:\n        enabled: true\n        variants:\n${body}`))
    expect(
      errorOf(() => loaded(variants('          - { name: a, weight: 70% }\n          - { name: b, weight: 40% }\n'))).message,
    ).toContain('add up to 110%, more than 100%')
    expect(
      errorOf(() => loaded(variants('          - { name: a, weight: 70% }\n          - { name: b, weight: 20% }\n'))).message,
    ).toContain('add up to 90%')
    expect(errorOf(() => loaded(variants('          - { name: a }\n          - { name: a }\n'))).message).toContain(
      'variant "a" is listed twice',
    )
  })

  it('reports every problem of a file at once', () => {
    const text = minimal(
      flag(
        '      development:\n        enabled: maybe\n      production:\n        enabled: true\n        strategies:\n          - name: flexibleRollout\n            rollout: -5\n',
      ),
    )
    const { message } = errorOf(() => loaded(text))
    expect(message.split('\n')).toHaveLength(2)
  })

  it('refuses a file that is not a mapping', () => {
    expect(errorOf(() => loaded('- a\n- b\n')).message).toContain('flags.yaml:1:1: flags.yaml must be a mapping')
  })

  it('accepts an empty file as no flags in the default environments', () => {
    const flags = loaded('').flags
    expect(flags).toEqual({ environments: ['development', 'production'], project: 'default', segments: {}, flags: {} })
  })
})

describe('the client API payload', () => {
  it('serves a flag not configured in an environment as off, and one without strategies as the default strategy', () => {
    const flags = loaded().flags
    const development = toClientFeatures(flags, 'development')
    expect(development.find((feature) => feature.name === 'checkout.new-flow')).toMatchObject({ enabled: false, strategies: [] })
    expect(development.find((feature) => feature.name === 'orders.eager-loading')).toMatchObject({
      enabled: true,
      strategies: [{ name: 'default', parameters: {}, constraints: [], variants: [] }],
    })
  })

  it('writes strategy parameters the way Unleash does: strings, comma-separated lists, groupId defaulting to the flag name', () => {
    const feature = toClientFeature('checkout.new-flow', loaded().flags.flags['checkout.new-flow']!, 'production')
    expect(feature.strategies[0]).toEqual({ name: 'userWithId', parameters: { userIds: 'alice,bob' }, constraints: [], variants: [] })
    expect(feature.strategies[1]).toEqual({
      name: 'flexibleRollout',
      parameters: { rollout: '50', stickiness: 'default', groupId: 'checkout.new-flow' },
      constraints: [{ contextName: 'appName', operator: 'IN', values: ['web'], inverted: false, caseInsensitive: false }],
      variants: [],
    })
  })

  it('gives variants without a weight the rest, split evenly, first ones taking the remainder (total 1000)', () => {
    const variants = toClientVariants([
      { name: 'a', weight: 100, stickiness: 'default' },
      { name: 'b', stickiness: 'default' },
      { name: 'c', stickiness: 'default' },
      { name: 'd', stickiness: 'default' },
    ])
    expect(variants.map((variant) => [variant.name, variant.weight, variant.weightType])).toEqual([
      ['a', 100, 'fix'],
      ['b', 300, 'variable'],
      ['c', 300, 'variable'],
      ['d', 300, 'variable'],
    ])
    const uneven = toClientVariants([
      { name: 'x', stickiness: 'default' },
      { name: 'y', stickiness: 'default' },
      { name: 'z', stickiness: 'default' },
    ])
    expect(uneven.map((variant) => variant.weight)).toEqual([334, 333, 333])
  })

  it('keeps the sample file as the test fixtures expect', () => {
    expect(SAMPLE_FLAGS).toContain('# on while we test it')
  })
})
