/**
 * The other strategies end to end: a rolling rollout over two reference-service instances behind
 * the router, and a strangler fig moving the pool behind /payments to a new service.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate, seed } from '../../reference-service/src/index.js'
import type { ServiceProcess } from '../../src/demo/service-process.js'
import { createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { makeTempDir } from '../helpers/temp.js'
import { cli, startRouterProcess, type RouterProcess } from '../traffic/cli.js'
import { runAutocannon, stopChild } from '../traffic/support.js'
import { driveTraffic, startRolloutWorld, startService, type RolloutWorld } from './support.js'

const serverUp = await isServerReachable()
const run = requireOrSkip(serverUp, 'PostgreSQL at 127.0.0.1:5432 is not reachable')

/**
 * These tests are about the strategies' mechanics, so only errors fail a window: an instance just
 * put back (or a service just started) meets cold connections that its peers, warm, do not, and
 * on 2 s windows that shows in latency. The judge's sensitivity is tested in
 * canary.integration.test.ts and measured in bench/judge.ts.
 */
const ANALYSIS = `minSamples: 30
metrics:
  - metric: errors
    tolerance: 0.5%
    critical: true
`

describe.runIf(run)('rolling and strangler fig', () => {
  let database: TestDatabase
  let world: RolloutWorld | undefined
  let router: RouterProcess | undefined
  let monolith: ServiceProcess | undefined
  let payments: ServiceProcess | undefined

  beforeAll(async () => {
    database = await createTestDatabase('deploy_strategies')
    const pool = new pg.Pool({ connectionString: database.url, max: 2 })
    try {
      await migrate(pool)
      await seed(pool, { scale: 0.01 })
    } finally {
      await pool.end()
    }
  }, 120_000)

  afterAll(async () => {
    await world?.close()
    await stopChild(router?.child)
    await Promise.all([monolith?.stop(), payments?.stop()])
    await database?.drop()
  }, 60_000)

  it('replaces instances one at a time, each judged against the rest, and completes', async () => {
    world = await startRolloutWorld(database)
    writeFileSync(join(world.dir, 'analysis.yaml'), ANALYSIS)
    await cli(world.dir, ['router', 'set-weight', 'stable=50', 'canary=50'])
    const traffic = driveTraffic(world, 90)
    const result = await world.deploy([
      'rolling',
      '--service',
      'api',
      '--instances',
      'stable,canary',
      '--command',
      'echo "{name} at {address}" >> replaced.txt',
      '--interval',
      '2s',
      '--warmup',
      '1s',
      '--analysis',
      'analysis.yaml',
      '--json',
    ])
    traffic.stop()
    await traffic.result.catch(() => undefined)
    expect(result.status, result.stderr).toBe(0)
    const rollout = (JSON.parse(result.stdout) as { rollout: { status: string; instances: Array<{ name: string; status: string }> } })
      .rollout
    expect(rollout.status).toBe('completed')
    expect(rollout.instances.map((instance) => [instance.name, instance.status])).toEqual([
      ['stable', 'replaced'],
      ['canary', 'replaced'],
    ])
    expect(readFileSync(join(world.dir, 'replaced.txt'), 'utf8').trim().split('\n')).toEqual([
      `stable at ${world.stable.url}`,
      `canary at ${world.canary.url}`,
    ])
    const kinds = (await world.journal('deploy')).map((event) => event.kind)
    expect(kinds.filter((kind) => kind === 'deploy.instance-replaced')).toHaveLength(2)
    expect(kinds).toContain('deploy.completed')
  }, 240_000)

  it('moves the pool behind /payments to the new service and leaves the route there', async () => {
    ;[monolith, payments] = await Promise.all([startService(database, 'monolith'), startService(database, 'payments')])
    const dir = makeTempDir('opsctl-strangler-')
    writeFileSync(join(dir, 'analysis.yaml'), ANALYSIS)
    router = await startRouterProcess(dir, [
      '--backend',
      `app=${monolith.url}`,
      '--backend',
      `payments/monolith=${monolith.url}`,
      '--backend',
      `payments/payments-svc=${payments.url}`,
      '--route',
      '/payments=payments',
      '--weights',
      'monolith=100,payments-svc=0',
      '--port',
      '0',
      '--admin-port',
      '0',
    ])
    const load = runAutocannon(`${router.listening.url}/payments/users/1/orders`, { connections: 10, seconds: 60, rate: 200 })
    const result = await cli(dir, [
      'deploy',
      'canary',
      '--service',
      'payments',
      '--route',
      '/payments',
      '--stable',
      'monolith',
      '--canary',
      'payments-svc',
      '--steps',
      '50,100',
      '--interval',
      '2s',
      '--warmup',
      '1s',
      '--analysis',
      'analysis.yaml',
      '--json',
    ])
    load.child.kill('SIGINT')
    await load.result.catch(() => undefined)
    expect(result.status, result.stderr).toBe(0)
    const rollout = (JSON.parse(result.stdout) as { rollout: { status: string; strategy: string; pool: string; weight: number } }).rollout
    expect(rollout).toMatchObject({ status: 'promoted', strategy: 'strangler', pool: 'payments', weight: 100 })
    const status = JSON.parse((await cli(dir, ['router', 'status', '--json'])).stdout) as {
      backends: Array<{ pool: string; backend: string; weight: number }>
    }
    const weight = (pool: string, backend: string) => status.backends.find((item) => item.pool === pool && item.backend === backend)!.weight
    expect(weight('payments', 'payments-svc')).toBe(100)
    expect(weight('payments', 'monolith')).toBe(0)
    expect(weight('default', 'app')).toBe(100) // the rest of the site stays where it was
  }, 240_000)
})
