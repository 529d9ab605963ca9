/**
 * `--kill-flag` through the Unleash Admin API driver: a rollout aborted from another terminal
 * turns the flag off in a real unleash-server in the same rollback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { isUnleashServerInstalled, startUnleashServer, type UnleashServer } from '../flags/unleash-server.js'
import { startRolloutWorld, type RolloutWorld } from './support.js'

const serverUp = await isServerReachable()
const run =
  requireOrSkip(serverUp, 'PostgreSQL at 127.0.0.1:5432 is not reachable') &&
  requireOrSkip(isUnleashServerInstalled(), 'unleash-server not installed: run .ci/install-unleash.sh')

describe.runIf(run)('deploy --kill-flag on Unleash', () => {
  let database: TestDatabase
  let unleash: UnleashServer
  let world: RolloutWorld

  beforeAll(async () => {
    database = await createTestDatabase('deploy_unleash')
    ;[unleash, world] = await Promise.all([startUnleashServer(), startRolloutWorld(database)])
    await unleash.admin('POST', '/projects/default/features', { name: 'checkout.v2', type: 'release', description: 'the new checkout' })
    for (const environment of ['development', 'production'])
      await unleash.admin('POST', `/projects/default/features/checkout.v2/environments/${environment}/on`)
  }, 180_000)

  afterAll(async () => {
    await world?.close()
    await unleash?.stop()
    await database?.drop()
  }, 60_000)

  it('kills the flag in unleash-server when the rollout is aborted', async () => {
    const env = { UNLEASH_URL: unleash.url, UNLEASH_API_TOKEN: unleash.adminToken }
    // No traffic: one inconclusive window pauses the rollout at its first step.
    const paused = await world.deploy(
      [
        'canary',
        '--service',
        'api',
        '--stable',
        'stable',
        '--canary',
        'canary',
        '--steps',
        '20,100',
        '--interval',
        '1s',
        '--max-inconclusive',
        '1',
        '--kill-flag',
        'checkout.v2',
      ],
      { ...env },
    )
    expect(paused.status, paused.stderr).toBe(1)
    expect(paused.stderr).toMatch(/inconclusive/)
    const aborted = await world.deploy(['abort', '--reason', 'bad build', '--json'], env)
    expect(aborted.status, aborted.stderr).toBe(0)
    const rollout = (JSON.parse(aborted.stdout) as { rollout: { status: string; outcome: { flagKilled?: string } } }).rollout
    expect(rollout.status).toBe('aborted')
    expect(rollout.outcome.flagKilled).toBe('checkout.v2')
    const feature = (await unleash.admin('GET', '/projects/default/features/checkout.v2')) as {
      environments: Array<{ name: string; enabled: boolean }>
    }
    expect(feature.environments.map((environment) => [environment.name, environment.enabled]).sort()).toEqual([
      ['development', false],
      ['production', false],
    ])
  }, 180_000)
})
