/**
 * The canary scenario through the HAProxy driver: a real haproxy configured by
 * `opsctl router haproxy-config` (with its request log to opsctl for raw latencies), driven
 * through its runtime API socket. A canary failing 5% of requests is rolled back.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate, seed } from '../../reference-service/src/index.js'
import type { ServiceProcess } from '../../src/demo/service-process.js'
import { createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { makeTempDir } from '../helpers/temp.js'
import { cli } from '../traffic/cli.js'
import { runAutocannon, stopChild } from '../traffic/support.js'
import { waitFor } from '../helpers/wait.js'
import { startService } from './support.js'

const hasHaproxy = spawnSync('haproxy', ['-v']).status === 0
const serverUp = await isServerReachable()
const run =
  requireOrSkip(hasHaproxy, 'haproxy is not installed (apt-get install haproxy; .ci/packages.sh does in CI)') &&
  requireOrSkip(serverUp, 'PostgreSQL at 127.0.0.1:5432 is not reachable')

async function freeTcpPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const port = socket.address().port
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

describe.runIf(run)('deploy canary through HAProxy', () => {
  let database: TestDatabase
  let stable: ServiceProcess
  let canary: ServiceProcess
  let haproxy: ChildProcess | undefined
  let dir: string
  let url: string
  let socket: string

  beforeAll(async () => {
    database = await createTestDatabase('deploy_haproxy')
    const pool = new pg.Pool({ connectionString: database.url, max: 2 })
    try {
      await migrate(pool)
      await seed(pool, { scale: 0.01 })
    } finally {
      await pool.end()
    }
    ;[stable, canary] = await Promise.all([startService(database, 'v1'), startService(database, 'v2', { FAULT_ERROR_RATE: '0.05' })])
    dir = makeTempDir('opsctl-deploy-haproxy-')
    socket = join(dir, 'admin.sock')
    const port = await freeTcpPort()
    const logTarget = `127.0.0.1:${await freeUdpPort()}`
    url = `http://127.0.0.1:${port}`
    writeFileSync(join(dir, 'opsctl.yaml'), `router:\n  haproxySocket: ${socket}\n  haproxyLog: ${logTarget}\n`)
    const config = await cli(dir, [
      'router',
      'haproxy-config',
      '--backend',
      `stable=${stable.url}`,
      '--backend',
      `canary=${canary.url}`,
      '--weights',
      'stable=100,canary=0',
      '--bind',
      `127.0.0.1:${port}`,
    ])
    expect(config.status, config.stderr).toBe(0)
    expect(config.stdout).toContain(logTarget) // from router.haproxyLog
    writeFileSync(join(dir, 'haproxy.cfg'), config.stdout)
    expect(spawnSync('haproxy', ['-c', '-q', '-f', join(dir, 'haproxy.cfg')]).status).toBe(0)
    haproxy = spawn('haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db'], { stdio: 'ignore' })
    await waitFor(() => existsSync(socket), 10_000, 'the haproxy admin socket')
  }, 120_000)

  afterAll(async () => {
    await stopChild(haproxy)
    await Promise.all([stable?.stop(), canary?.stop()])
    await database?.drop()
  }, 60_000)

  it('rolls back a canary that fails 5% of requests, judged on HAProxy counters and its request log', async () => {
    writeFileSync(
      join(dir, 'analysis.yaml'),
      'minSamples: 50\nmetrics:\n  - metric: errors\n    tolerance: 0.5%\n    critical: true\n', // the 5% errors are what is judged here,
    )
    const load = runAutocannon(`${url}/users/1/orders`, { connections: 10, seconds: 60, rate: 200 })
    const result = await cli(dir, [
      'deploy',
      'canary',
      '--service',
      'api',
      '--stable',
      'stable',
      '--canary',
      'canary',
      '--steps',
      '20,50,100',
      '--interval',
      '3s',
      '--warmup',
      '1s',
      '--analysis',
      'analysis.yaml',
      '--json',
    ])
    load.child.kill('SIGINT')
    await load.result.catch(() => undefined)
    expect(result.status, result.stderr).toBe(1)
    const out = JSON.parse(result.stdout) as {
      rollout: {
        status: string
        engine: { kind: string }
        verdicts: Array<{ status: string; reasons: string[]; canary: { samples: number } }>
      }
    }
    expect(out.rollout.engine.kind).toBe('haproxy')
    expect(out.rollout.status).toBe('rolled-back')
    const last = out.rollout.verdicts.at(-1)!
    expect(last.status, result.stderr).toBe('fail')
    expect(last.reasons.join(' ')).toMatch(/error/i)
    expect(last.canary.samples).toBeGreaterThan(0) // raw latencies from the request log
    const status = await cli(dir, ['router', 'status', '--json'])
    const backends = (JSON.parse(status.stdout) as { backends: Array<{ backend: string; weight: number }> }).backends
    expect(backends.find((backend) => backend.backend === 'canary')!.weight).toBe(0)
  }, 240_000)
})
