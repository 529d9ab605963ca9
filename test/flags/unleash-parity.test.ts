import { afterEach, describe, expect, it } from 'vitest'
import { clientFeaturesResponse, toClientFeatures, toClientSegments } from '../../src/flags/client-api.js'
import { planKill } from '../../src/flags/edit.js'
import { evaluateFeature } from '../../src/flags/evaluate.js'
import { startFlagServer, type FlagServer } from '../../src/flags/server.js'
import { findStaleFlags } from '../../src/flags/stale.js'
import { importUnleashData } from '../../src/flags/unleash-import.js'
import { pushRefusals } from '../../src/flags/unleash-admin.js'
import { errorOf, loaded, tempProject } from './fixtures.js'

const flag = (name: string, body = '', environment = '      development:\n        enabled: true\n') => `  ${name}:
    type: release
    description: d
    owner: o
    created: 2026-01-01
${body}    environments:
${environment}`
const file = (flags: string, top = '') => `environments: [development]\n${top}flags:\n${flags}`

const FAMILY = file(
  flag('parent') +
    flag('child', '    dependencies: [{ feature: parent }]\n') +
    flag('when-off', '    dependencies: [{ feature: parent, enabled: false }]\n') +
    flag('grandchild', '    dependencies: [{ feature: child }]\n') +
    flag('orphan', '    dependencies: [{ feature: parnet }]\n'),
)

describe('dependent flags', () => {
  it('are served with the child and evaluated as SDKs do: a missing parent or a chain is never on', () => {
    const flags = loaded(FAMILY).flags
    const features = toClientFeatures(flags, 'development')
    const byName = new Map(features.map((feature) => [feature.name, feature]))
    expect(byName.get('child')!.dependencies).toEqual([{ feature: 'parent', enabled: true, variants: [] }])
    expect(byName.get('when-off')!.dependencies).toEqual([{ feature: 'parent', enabled: false }])
    const on = (name: string) => evaluateFeature(byName.get(name), {}, { now: new Date(), random: () => 0.5, features: byName }).enabled
    expect(['parent', 'child', 'when-off', 'grandchild', 'orphan'].map(on)).toEqual([true, true, false, false, false])
  })

  it('that are never on are valid, with a notice at their line', () => {
    const notices = loaded(FAMILY).notices
    expect(notices.find((notice) => notice.includes('grandchild'))).toMatch(
      /^flags\.yaml:\d+:\d+: flags\.grandchild\.dependencies\[0\]\.feature: parent "child" has parents of its own: SDKs never turn grandchild on \(Unleash allows one level of dependencies\)$/,
    )
    expect(notices.find((notice) => notice.includes('orphan'))).toContain(
      'parent "parnet" is not defined: SDKs never turn orphan on (did you mean "parent"?)',
    )
  })

  it('a kill of a parent says which children go dark with it', () => {
    const edit = planKill(loaded(FAMILY), 'parent')
    expect(edit.change.notes).toEqual([
      'child depends on parent: off with it',
      'when-off is on only while parent is off: now on where enabled',
    ])
  })

  it('a parent with a live child is not stale', () => {
    const report = findStaleFlags({
      flags: [
        { name: 'parent', type: 'release', createdAt: '2020-01-01' },
        { name: 'child', type: 'release', createdAt: '2026-01-01', parents: ['parent'] },
      ],
      references: [{ flag: 'child', file: 'a.ts', line: 1, call: 'isEnabled' }],
      evaluationsKnown: false,
      now: new Date('2026-01-10'),
    })
    expect(report.findings).toEqual([])
  })
})

describe('segments', () => {
  const SEGMENTED = file(
    flag(
      'by-segment',
      '',
      '      development:\n        enabled: true\n        strategies:\n          - name: default\n            segments: [beta, gone]\n',
    ),
    'segments:\n  beta:\n    constraints:\n      - { contextName: userId, operator: IN, values: [a, b] }\n',
  )

  it('are served once, by id, and a missing one is an id no segment has (the strategy never matches)', () => {
    const flags = loaded(SEGMENTED).flags
    expect(toClientSegments(flags)).toEqual([
      {
        id: 1,
        name: 'beta',
        constraints: [{ contextName: 'userId', operator: 'IN', values: ['a', 'b'], inverted: false, caseInsensitive: false }],
      },
    ])
    expect(toClientFeatures(flags, 'development')[0]!.strategies[0]!.segments).toEqual([1, 2])
  })

  it('are inlined for SDKs older than client spec 4.2.0, a missing one as a constraint that never holds', () => {
    const response = clientFeaturesResponse(loaded(SEGMENTED).flags, 'development', { inlineSegments: true })
    expect(response.segments).toBeUndefined()
    expect(response.features[0]!.strategies[0]!.constraints).toEqual([
      { contextName: 'userId', operator: 'IN', values: ['a', 'b'], inverted: false, caseInsensitive: false },
      { contextName: 'segment:gone', operator: 'IN', values: [], inverted: false, caseInsensitive: false },
    ])
  })

  it('a reference to an undefined segment is noticed, with the name probably meant', () => {
    expect(loaded(SEGMENTED.replace('[beta, gone]', '[bta]')).notices[0]).toContain(
      'segment "bta" is not defined: this strategy never matches (did you mean "beta"?)',
    )
  })
})

describe('served as an Unleash server serves it', () => {
  const VARIANTS = file(
    flag(
      'a.flag',
      '',
      `      development:
        enabled: true
        strategies:
          - name: flexibleRollout
            rollout: 100%
            stickiness: tenantId
            constraints:
              - { contextName: version, operator: SEMVER_GT, value: 1.0.0 }
            variants: [{ name: zeta }, { name: alpha, weight: 20% }, { name: mid }]
`,
    ),
  )

  it('variants normalised to 1000 and sorted by name; a strategy variant without stickiness leaves it to the strategy; values always sent', () => {
    const strategy = toClientFeatures(loaded(VARIANTS).flags, 'development')[0]!.strategies[0]!
    expect(strategy.variants).toEqual([
      { name: 'alpha', weight: 200, weightType: 'fix' },
      { name: 'mid', weight: 400, weightType: 'variable' },
      { name: 'zeta', weight: 400, weightType: 'variable' },
    ])
    expect(strategy.constraints[0]).toEqual({
      contextName: 'version',
      operator: 'SEMVER_GT',
      values: [],
      value: '1.0.0',
      inverted: false,
      caseInsensitive: false,
    })
  })

  it('variants as written keep their weights and order (Unleash 3/4 data)', () => {
    const text = VARIANTS.replace(
      'variants: [{ name: zeta }, { name: alpha, weight: 20% }, { name: mid }]',
      'variantsAsWritten: true\n            variants: [{ name: zeta, weight: 0.1% }, { name: alpha, weight: 0.1% }]',
    )
    expect(
      toClientFeatures(loaded(text).flags, 'development')[0]!.strategies[0]!.variants.map((variant) => [variant.name, variant.weight]),
    ).toEqual([
      ['zeta', 1],
      ['alpha', 1],
    ])
  })

  it('IN and NOT_IN with no values are valid (never / always), deprecated strategies are accepted with a notice', () => {
    const text = file(
      flag(
        'old',
        '',
        '      development:\n        enabled: true\n        strategies:\n          - name: gradualRolloutUserId\n            percentage: 30\n            groupId: g\n            constraints: [{ contextName: env, operator: IN, values: [] }]\n',
      ),
    )
    const result = loaded(text)
    expect(result.notices).toEqual([
      'flags.yaml:12:19: flags.old.environments.development.strategies[0].name: gradualRolloutUserId is deprecated (Unleash 5 removed it): flexibleRollout with stickiness userId and groupId "g" does the same',
    ])
    expect(toClientFeatures(result.flags, 'development')[0]!.strategies[0]).toMatchObject({
      parameters: { percentage: '30', groupId: 'g' },
    })
  })

  it('a regex RE2 refuses is valid, never matches, and is noticed', () => {
    const text = file(
      flag(
        're',
        '',
        "      development:\n        enabled: true\n        strategies:\n          - name: default\n            constraints: [{ contextName: userId, operator: REGEX, value: '^(a)\\1$' }]\n",
      ),
    )
    expect(loaded(text).notices[0]).toContain('never matches: RE2 refuses this pattern (invalid escape sequence: `\\1`)')
  })

  it('a flag name with a space, a slash or a control character is refused at its own line, with the rule', () => {
    for (const name of ['hello world', 'a/b', 'tab\tname', '-leading']) {
      const { message, exit } = errorOf(() => loaded(file(flag(JSON.stringify(name)))))
      expect(exit).toBe(2)
      expect(message).toBe(
        `flags.yaml:3:3: flags.${name}: ${JSON.stringify(name)} is not a valid flag name: a flag name starts with a letter or digit and has no spaces, slashes or control characters, at most 100 characters (Unleash itself creates only URL-safe names: letters, digits, ".", "_", "-", "~")`,
      )
    }
  })

  it('serves a UTF-8 flag name, as SDKs take it, and notes that Unleash would not create it', () => {
    const result = loaded(file(flag('Feature.UTF-8.😊_φriend_你好_🌍')))
    expect(result.notices).toEqual([
      expect.stringContaining('"Feature.UTF-8.😊_φriend_你好_🌍" is not URL-safe: flags serve and SDKs take it'),
    ])
    expect(clientFeaturesResponse(result.flags, 'development', {}).features.map((feature) => feature.name)).toEqual([
      'Feature.UTF-8.😊_φriend_你好_🌍',
    ])
    expect(pushRefusals(result.flags)).toEqual([
      expect.stringMatching(/^Feature\.UTF-8\.😊_φriend_你好_🌍: not a URL-safe name .* Unleash refuses/),
    ])
  })

  it('flags push refuses an operator Unleash does not have, in a strategy or a segment', () => {
    const text = file(
      flag(
        'odd',
        '',
        '      development:\n        enabled: true\n        strategies:\n          - name: default\n            constraints: [{ contextName: userId, operator: NOT_A_VALID_OPERATOR, values: [a] }]\n',
      ),
      'segments:\n  odd-segment:\n    constraints: [{ contextName: email, operator: LIKE, value: x }]\n',
    )
    expect(pushRefusals(loaded(text).flags)).toEqual([
      "segment odd-segment: operator LIKE is not one of Unleash's",
      "odd (development): operator NOT_A_VALID_OPERATOR is not one of Unleash's",
    ])
  })

  it('filters by project and tag as Unleash does', () => {
    const flags = loaded(file(flag('tagged', '    tags: [simple:beta, team:checkout]\n') + flag('plain'))).flags
    const names = (query: Parameters<typeof clientFeaturesResponse>[2]) =>
      clientFeaturesResponse(flags, 'development', query).features.map((feature) => feature.name)
    expect(names({ tag: ['team:checkout'] })).toEqual(['tagged'])
    expect(names({ tag: ['simple:nope'] })).toEqual([])
    expect(names({ project: ['other'] })).toEqual([])
    expect(names({ project: ['default'] })).toEqual(['tagged', 'plain'])
  })
})

describe('the delta and streaming client APIs', () => {
  let server: FlagServer | undefined
  const project = tempProject(file(flag('first')))
  afterEach(async () => {
    await server?.stop()
  })

  it('delta answers one hydration event, then 304 until the file changes; streaming pushes the change', async () => {
    server = await startFlagServer({ file: project.file, port: 0, pollIntervalMs: 50 })
    const headers = { authorization: server.tokens.client.development! }
    const first = await fetch(`${server.url}/client/delta`, { headers })
    const body = (await first.json()) as { events: Array<{ type: string; features: Array<{ name: string }> }> }
    expect(body.events.map((event) => [event.type, event.features.map((feature) => feature.name)])).toEqual([['hydration', ['first']]])
    const again = await fetch(`${server.url}/client/delta`, { headers: { ...headers, 'if-none-match': first.headers.get('etag')! } })
    expect(again.status).toBe(304)

    const controller = new AbortController()
    const stream = await fetch(`${server.url}/client/streaming`, { headers, signal: controller.signal })
    expect(stream.headers.get('content-type')).toBe('text/event-stream')
    const reader = stream.body!.getReader()
    let text = ''
    const readUntil = async (marker: string) => {
      for (let i = 0; i < 100 && !text.includes(marker); i++) text += new TextDecoder().decode((await reader.read()).value)
    }
    await readUntil('unleash-connected')
    project.write(file(flag('first') + flag('second')))
    await readUntil('"second"')
    expect(text).toMatch(/event: unleash-updated\ndata: \{"events":\[\{"eventId":2,"type":"hydration"/)
    controller.abort()
    const changed = await fetch(`${server.url}/client/delta`, { headers: { ...headers, 'if-none-match': first.headers.get('etag')! } })
    expect(changed.status).toBe(200)
    project.remove()
  })
})

describe('flags import', () => {
  it('refuses what is not Unleash data, and lists what flags.yaml cannot say instead of dropping it', () => {
    expect(errorOf(() => importUnleashData([1, 2], { today: '2026-01-01' }))).toMatchObject({ exit: 2 })
    expect(errorOf(() => importUnleashData({ nothing: true }, { today: '2026-01-01' })).message).toContain(
      'neither features, events nor featureStrategies',
    )
    const result = importUnleashData(
      {
        features: [
          { name: 'good', enabled: true, strategies: [{ name: 'default' }] },
          { name: 'bad name', enabled: true, strategies: [] },
          { name: 'custom', enabled: true, strategies: [{ name: 'myCompanyStrategy', parameters: {} }] },
        ],
      },
      { today: '2026-01-01' },
    )
    expect(result.flags).toEqual(['good'])
    expect(result.skipped.map((item) => item.name)).toEqual(['bad name', 'custom'])
    expect(loaded(result.text).flags.flags.good!.environments.development!.enabled).toBe(true)
  })
})
