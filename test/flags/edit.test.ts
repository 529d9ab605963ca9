import { describe, expect, it } from 'vitest'
import { planKill, planRollout, planSetEnabled } from '../../src/flags/edit.js'
import { parseFlagsText } from '../../src/flags/flags-file.js'
import { SAMPLE_FLAGS, errorOf, loaded } from './fixtures.js'

/** The lines that differ between two texts of the same length in lines. */
function changedLines(before: string, after: string): Array<[string, string]> {
  const a = before.split('\n')
  const b = after.split('\n')
  expect(b).toHaveLength(a.length)
  return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]!] as [string, string]]))
}

describe('changes to flags.yaml keep its comments and layout', () => {
  it('disable changes one word on one line, comment included', () => {
    const edit = planSetEnabled(loaded(), 'orders.eager-loading', 'development', false)
    expect(changedLines(SAMPLE_FLAGS, edit.text)).toEqual([
      ['        enabled: true # on while we test it', '        enabled: false # on while we test it'],
    ])
    expect(edit.change).toMatchObject({
      flag: 'orders.eager-loading',
      change: 'disabled',
      environment: 'development',
      from: true,
      to: false,
      changed: true,
    })
  })

  it('rollout changes the percentage where it is, in the style it was written (25% stays a percentage, 50 a number)', () => {
    const percent = planRollout(loaded(), 'orders.eager-loading', 'production', 25)
    expect(changedLines(SAMPLE_FLAGS, percent.text)).toEqual([
      ['            rollout: 10%   # start small', '            rollout: 25%   # start small'],
    ])
    expect(percent.change).toMatchObject({ change: 'rollout', from: 10, to: 25 })
    expect(percent.change.notes).toEqual(['orders.eager-loading is disabled in production: the rollout takes effect once it is enabled'])
    const number = planRollout(loaded(), 'checkout.new-flow', 'production', 5)
    expect(changedLines(SAMPLE_FLAGS, number.text)).toEqual([['            rollout: 50', '            rollout: 5']])
  })

  it('kill turns every environment off in one text, and only the enabled lines change', () => {
    const both = SAMPLE_FLAGS.replace(
      '        enabled: false\n        strategies:\n          - name: flexibleRollout\n            rollout: 10%',
      '        enabled: true\n        strategies:\n          - name: flexibleRollout\n            rollout: 10%',
    )
    const edit = planKill(loaded(both), 'orders.eager-loading')
    expect(changedLines(both, edit.text)).toEqual([
      ['        enabled: true # on while we test it', '        enabled: false # on while we test it'],
      ['        enabled: true', '        enabled: false'],
    ])
    expect(edit.change).toMatchObject({
      change: 'killed',
      from: { development: true, production: true },
      to: { development: false, production: false },
      changed: true,
    })
  })

  it('kill of a flag that is already off changes nothing and says so', () => {
    const edit = planKill(loaded(SAMPLE_FLAGS.replace('enabled: true # on', 'enabled: false # on')), 'orders.eager-loading')
    expect(edit.change.changed).toBe(false)
    expect(edit.change.notes[0]).toContain('already off in every environment')
  })

  it('enabling in an environment the flag has no section for adds one, keeping every comment', () => {
    const edit = planSetEnabled(loaded(), 'checkout.new-flow', 'development', true)
    expect(edit.text).toContain('    environments:\n      production:\n')
    expect(edit.text).toMatch(/ {6}development:\n {8}enabled: true\n/)
    for (const comment of ['# Flags of the shop.', '# The N+1 fix.', '# on while we test it', '# start small'])
      expect(edit.text).toContain(comment)
    expect(parseFlagsText(edit.text, 'flags.yaml').flags.flags['checkout.new-flow']!.environments.development).toEqual({
      enabled: true,
      strategies: [],
      variants: [],
      variantsAsWritten: false,
    })
    expect(edit.change.notes[0]).toContain('on for everyone there')
  })

  it('a rollout where there is none yet replaces the default strategy and keeps targeted ones', () => {
    const edit = planRollout(loaded(), 'orders.eager-loading', 'development', 30)
    const development = parseFlagsText(edit.text, 'flags.yaml').flags.flags['orders.eager-loading']!.environments.development!
    expect(development.strategies).toEqual([
      {
        name: 'flexibleRollout',
        rollout: 30,
        stickiness: 'default',
        constraints: [],
        segments: [],
        variants: [],
        variantsAsWritten: false,
      },
    ])
    expect(edit.change).toMatchObject({ from: 100, to: 30 })
    // Everything before the new lines is as it was.
    expect(edit.text.startsWith(SAMPLE_FLAGS.slice(0, SAMPLE_FLAGS.indexOf('      production:\n        enabled: false')))).toBe(true)
  })

  it('a file indented by 4 keeps its indentation through a structural change', () => {
    const four = [
      'environments: [development, production]',
      'flags:',
      '    # kept',
      '    search.v2:',
      '        type: release',
      '        description: d',
      '        owner: o',
      '        created: 2026-01-01',
      '        environments:',
      '            production:',
      '                enabled: false',
      '',
    ].join('\n')
    const edit = planSetEnabled(loaded(four), 'search.v2', 'development', true)
    expect(edit.text).toBe(`${four}            development:\n                enabled: true\n`)
  })

  it('no change, no new text: enabling what is enabled', () => {
    const edit = planSetEnabled(loaded(), 'orders.eager-loading', 'development', true)
    expect(edit.change.changed).toBe(false)
    expect(edit.text).toBe(SAMPLE_FLAGS)
  })

  it('refuses unknown flags (with a suggestion), unknown environments, and bad percentages (exit 2)', () => {
    expect(errorOf(() => planSetEnabled(loaded(), 'orders.eager-loadin', 'development', true))).toEqual({
      message: 'No flag "orders.eager-loadin" in flags.yaml (did you mean "orders.eager-loading"?)',
      exit: 2,
    })
    expect(errorOf(() => planSetEnabled(loaded(), 'orders.eager-loading', 'staging', true)).message).toContain(
      'Unknown environment "staging" (flags.yaml declares development, production)',
    )
    expect(errorOf(() => planRollout(loaded(), 'orders.eager-loading', 'production', 140)).exit).toBe(2)
  })

  it('refuses to pick one of two rollouts', () => {
    const two = SAMPLE_FLAGS.replace(
      '            stickiness: userId\n',
      '            stickiness: userId\n          - name: flexibleRollout\n            rollout: 5%\n',
    )
    expect(errorOf(() => planRollout(loaded(two), 'orders.eager-loading', 'production', 20)).message).toContain(
      '2 flexibleRollout strategies in production',
    )
  })
})
