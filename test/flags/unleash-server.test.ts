import { InMemStorageProvider, Unleash } from 'unleash-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FlagBackend } from '../../src/flags/backend.js'
import { startFlagServer } from '../../src/flags/server.js'
import { unleashAdminBackend } from '../../src/flags/unleash-admin.js'
import { runCli } from '../helpers/cli.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { tempProject } from './fixtures.js'
import { isUnleashServerInstalled, startUnleashServer, type UnleashServer } from './unleash-server.js'

const available = requireOrSkip(isUnleashServerInstalled(), 'unleash-server not installed: run .ci/install-unleash.sh')

/** One unleash-server for the whole file: it takes seconds to start. */
describe.skipIf(!available)('against a real unleash-server', () => {
  let unleash: UnleashServer

  beforeAll(async () => {
    unleash = await startUnleashServer()
  })
  afterAll(async () => {
    await unleash?.stop()
  })

  const createFlag = async (name: string, environment: string, parameters: Record<string, string>) => {
    await unleash.admin('POST', '/projects/default/features', { name, type: 'release', description: 'test' })
    await unleash.admin('POST', `/projects/default/features/${name}/environments/${environment}/strategies`, {
      name: 'flexibleRollout',
      parameters,
      constraints: [],
    })
  }
  /** The client API is eventually consistent (Unleash caches it by revision): wait, within bounds, for what is expected. */
  const eventually = async <T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> => {
    let value = await read()
    for (let attempt = 0; attempt < 100 && !check(value); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      value = await read()
    }
    return value
  }
  const clientFeature = async (name: string, environment = 'development') => {
    const response = await fetch(`${unleash.url}/client/features`, { headers: { authorization: unleash.clientTokens[environment]! } })
    expect(response.status).toBe(200)
    const { features } = (await response.json()) as {
      features: Array<{ name: string; enabled: boolean; strategies: Array<{ name: string; parameters: Record<string, string> }> }>
    }
    return features.find((feature) => feature.name === name)
  }

  async function sdk(url: string, token: string): Promise<Unleash> {
    const client = new Unleash({
      appName: 'rollout-comparison',
      url: `${url}/`,
      customHeaders: { Authorization: token },
      refreshInterval: 60_000,
      disableMetrics: true,
      skipInstanceCountWarning: true,
      // not the shared backup file in the temp dir: each client starts from nothing but its server
      storageProvider: new InMemStorageProvider(),
    })
    client.on('error', () => {})
    await new Promise<void>((resolve) => client.once('synchronized', () => resolve()))
    return client
  }

  /**
   * An SDK on unleash-server once its first fetch holds `feature` enabled: the server memoizes
   * the client API's answer for a moment, and an SDK started right after a change can read the
   * answer from before it (seen: every flag of a push "disabled" in one run of six).
   */
  async function sdkSeeing(feature: string): Promise<Unleash> {
    for (let attempt = 0; ; attempt++) {
      const client = await sdk(unleash.url, unleash.clientTokens.development!)
      if (client.getFeatureToggleDefinition(feature)?.enabled === true || attempt === 50) return client
      client.destroy()
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  it('a 25% flexibleRollout enables the same 10,000-user subset through flags serve as through unleash-server', async () => {
    await createFlag('rollout.compare', 'development', { rollout: '25', stickiness: 'default', groupId: 'rollout.compare' })
    await unleash.admin('POST', '/projects/default/features/rollout.compare/environments/development/on')
    const project = tempProject(`environments: [development]
flags:
  rollout.compare:
    type: release
    description: the same rollout as on unleash-server
    owner: test
    created: 2026-11-25
    environments:
      development:
        enabled: true
        strategies:
          - name: flexibleRollout
            rollout: 25%
`)
    const served = await startFlagServer({ file: project.file, port: 0, watch: false })
    const ours = await sdk(served.url, served.tokens.client.development!)
    const theirs = await sdkSeeing('rollout.compare')
    try {
      const users = Array.from({ length: 10_000 }, (_, i) => `user-${i + 1}`)
      const throughServe = users.filter((userId) => ours.isEnabled('rollout.compare', { userId }))
      const throughUnleash = users.filter((userId) => theirs.isEnabled('rollout.compare', { userId }))
      expect(throughServe.length).toBeGreaterThan(2300)
      expect(throughServe.length).toBeLessThan(2700)
      expect(throughServe).toEqual(throughUnleash)
    } finally {
      ours.destroy()
      theirs.destroy()
      await served.stop()
      project.remove()
    }
  })

  it('flags push writes segments, dependencies, variants and deprecated strategies so that every user gets what flags serve gives', async () => {
    const project = tempProject(PUSHED_FLAGS)
    const push = runCli(['flags', 'push', '--file', project.file, '--json'], {
      cwd: project.dir,
      env: { UNLEASH_URL: unleash.url, UNLEASH_API_TOKEN: unleash.adminToken },
    })
    expect(push.status, push.stderr).toBe(0)
    expect(JSON.parse(push.stdout)).toMatchObject({
      segments: ['beta-testers', 'internal'],
      flags: expect.arrayContaining([{ name: 'push.child', created: true }]),
    })
    const served = await startFlagServer({ file: project.file, port: 0, watch: false })
    const ours = await sdk(served.url, served.tokens.client.development!)
    // Unleash's client API caches by revision: wait until it serves the last flag pushed.
    await eventually(
      () => clientFeature('push.legacy'),
      (feature) => feature?.enabled === true,
    )
    const theirs = await sdkSeeing('push.legacy')
    try {
      const names = ['push.parent', 'push.child', 'push.child-of-blue', 'push.when-parent-off', 'push.legacy', 'push.internal']
      const answers = (client: Unleash) =>
        Array.from({ length: 2000 }, (_, i) => {
          const context = { userId: `user-${i}`, properties: { email: i % 5 === 0 ? `u${i}@example.com` : `u${i}@example.org` } }
          return names.map((name) => `${name}=${client.isEnabled(name, context)}/${client.getVariant(name, context).name}`).join(' ')
        })
      const throughServe = answers(ours)
      expect(throughServe).toEqual(answers(theirs))
      // Not trivially equal: the flags split users several ways.
      expect(new Set(throughServe).size).toBeGreaterThan(10)
    } finally {
      ours.destroy()
      theirs.destroy()
      await served.stop()
      project.remove()
    }
  })

  it('flags push refuses what Unleash cannot hold, before writing anything', () => {
    const project = tempProject(`environments: [development]
flags:
  refused.child:
    type: release
    description: d
    owner: o
    created: 2026-01-01
    dependencies: [{ feature: refused.nowhere }]
`)
    try {
      const push = runCli(['flags', 'push', '--file', project.file], {
        cwd: project.dir,
        env: { UNLEASH_URL: unleash.url, UNLEASH_API_TOKEN: unleash.adminToken },
      })
      expect(push.status).toBe(2)
      expect(push.stderr).toContain('refused.child: its parent refused.nowhere is not defined')
    } finally {
      project.remove()
    }
  })

  describe('the Admin-API driver', () => {
    let driver: FlagBackend

    beforeAll(async () => {
      driver = unleashAdminBackend({ url: unleash.url, token: unleash.adminToken })
      await createFlag('checkout.driver', 'development', { rollout: '10', stickiness: 'default', groupId: 'checkout.driver' })
    })

    it('lists flags with their state and rollout per environment', async () => {
      const listing = await driver.list()
      expect(listing.backend).toBe('unleash')
      expect(listing.environments).toEqual(expect.arrayContaining(['development', 'production']))
      const flag = listing.flags.find((item) => item.name === 'checkout.driver')!
      expect(flag.type).toBe('release')
      expect(flag.environments.find((environment) => environment.name === 'development')).toMatchObject({ enabled: false, rollout: 10 })
    })

    it('toggles a flag per environment, visible through the client API', async () => {
      const change = await driver.setEnabled('checkout.driver', 'development', true)
      expect(change).toMatchObject({ change: 'enabled', environment: 'development', from: false, to: true, changed: true })
      expect(
        await eventually(
          () => clientFeature('checkout.driver'),
          (feature) => feature?.enabled === true,
        ),
      ).toMatchObject({ enabled: true })
      expect(await clientFeature('checkout.driver', 'production')).toMatchObject({ enabled: false })
      expect((await driver.setEnabled('checkout.driver', 'development', true)).changed).toBe(false)
    })

    it('re-weights the flexibleRollout, visible through the client API', async () => {
      const change = await driver.setRollout('checkout.driver', 'development', 60)
      expect(change).toMatchObject({ change: 'rollout', from: 10, to: 60, changed: true })
      const feature = await eventually(
        () => clientFeature('checkout.driver'),
        (value) => value?.strategies[0]?.parameters.rollout === '60',
      )
      expect(feature?.strategies).toEqual([
        expect.objectContaining({
          name: 'flexibleRollout',
          parameters: expect.objectContaining({ rollout: '60', groupId: 'checkout.driver' }),
        }),
      ])
    })

    it('adds a flexibleRollout where an environment has none', async () => {
      const change = await driver.setRollout('checkout.driver', 'production', 5)
      expect(change.notes).toContain('checkout.driver is disabled in production: the rollout takes effect once it is enabled')
      const production = (await driver.get('checkout.driver')).environments.find((environment) => environment.name === 'production')
      expect(production).toMatchObject({ enabled: false, rollout: 5 })
    })

    it('kills: off in every environment at once', async () => {
      await driver.setEnabled('checkout.driver', 'production', true)
      const change = await driver.kill('checkout.driver')
      expect(change).toMatchObject({
        change: 'killed',
        from: expect.objectContaining({ development: true, production: true }),
        changed: true,
      })
      expect(
        await eventually(
          () => clientFeature('checkout.driver'),
          (feature) => feature?.enabled === false,
        ),
      ).toMatchObject({ enabled: false })
      expect(
        await eventually(
          () => clientFeature('checkout.driver', 'production'),
          (feature) => feature?.enabled === false,
        ),
      ).toMatchObject({ enabled: false })
    })

    it('refuses an unknown flag with a suggestion (exit 2), and a bad token (exit 3)', async () => {
      await expect(driver.setEnabled('checkout.drivr', 'development', true)).rejects.toMatchObject({
        exit: 2,
        message: expect.stringContaining('(did you mean "checkout.driver"?)'),
      })
      await expect(unleashAdminBackend({ url: unleash.url, token: '*:*.wrong-token-wrong' }).list()).rejects.toMatchObject({
        exit: 3,
        message: expect.stringContaining('refused the API token'),
      })
    })

    it('is what the commands use when UNLEASH_URL and UNLEASH_API_TOKEN are set, with the change journaled', () => {
      const project = tempProject('')
      try {
        const env = { UNLEASH_URL: unleash.url, UNLEASH_API_TOKEN: unleash.adminToken }
        const rollout = runCli(['flags', 'rollout', 'checkout.driver', '35%', '--env', 'development', '--reason', 'ramp up', '--json'], {
          cwd: project.dir,
          env,
        })
        expect(rollout.status).toBe(0)
        expect(JSON.parse(rollout.stdout)).toMatchObject({
          flag: 'checkout.driver',
          change: 'rollout',
          from: 60,
          to: 35,
          source: expect.stringMatching(/^Unleash at http:\/\/127\.0\.0\.1:\d+\/api \(project default\)$/),
          eventId: expect.any(String),
        })
        const journal = runCli(['journal', '--json'], { cwd: project.dir })
        expect(journal.stdout).toContain('"reason":"ramp up"')
      } finally {
        project.remove()
      }
    })
  })
})

const PUSHED_FLAGS = `environments: [development]
segments:
  beta-testers:
    description: users whose id ends in 1 or 3
    constraints:
      - { contextName: userId, operator: STR_ENDS_WITH, values: ['1', '3'] }
  internal:
    constraints:
      - { contextName: email, operator: STR_ENDS_WITH, values: ['@example.com'] }
flags:
  push.parent:
    type: release
    description: a rollout with strategy variants
    owner: test
    created: 2026-11-25
    environments:
      development:
        enabled: true
        strategies:
          - name: flexibleRollout
            rollout: 60%
            variants:
              - { name: red }
              - { name: blue, weight: 30% }
              - { name: green }
  push.child:
    type: release
    description: on with its parent, for beta testers
    owner: test
    created: 2026-11-25
    dependencies: [{ feature: push.parent }]
    environments:
      development:
        enabled: true
        strategies:
          - name: flexibleRollout
            rollout: 70%
            segments: [beta-testers]
  push.child-of-blue:
    type: experiment
    description: on where the parent gives blue, with its own variants in no order
    owner: test
    created: 2026-11-25
    dependencies: [{ feature: push.parent, variants: [blue] }]
    environments:
      development:
        enabled: true
        variants:
          - { name: zulu }
          - { name: alpha }
          - { name: mike, weight: 20% }
  push.when-parent-off:
    type: release
    description: on where the parent is off
    owner: test
    created: 2026-11-25
    dependencies: [{ feature: push.parent, enabled: false }]
    environments:
      development:
        enabled: true
  push.internal:
    type: permission
    description: internal users, by segment
    owner: test
    created: 2026-11-25
    environments:
      development:
        enabled: true
        strategies:
          - name: default
            segments: [internal]
  push.legacy:
    type: release
    description: a deprecated strategy, pushed as the flexibleRollout that does the same
    owner: test
    created: 2026-11-25
    environments:
      development:
        enabled: true
        strategies:
          - name: gradualRolloutUserId
            percentage: 40
            groupId: legacy
`
