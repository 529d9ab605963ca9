import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpsError } from '../../src/core/index.js'
import { haproxyConfig } from '../../src/traffic/haproxy-config.js'
import { haproxyTraffic } from '../../src/traffic/haproxy.js'
import { listenHaproxyLog, type HaproxyLogListener } from '../../src/traffic/haproxy-log.js'
import type { TrafficChange } from '../../src/traffic/control.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { makeTempDir } from '../helpers/temp.js'
import { runAutocannon, startFixture, stopChild, type FixtureServer } from './support.js'
import { waitFor } from '../helpers/wait.js'

const hasHaproxy = spawnSync('haproxy', ['-v']).status === 0
const available = requireOrSkip(hasHaproxy, 'haproxy is not installed (apt-get install haproxy; .ci/packages.sh does in CI)')

describe.runIf(available)('the HAProxy driver against a real haproxy', () => {
  let stable: FixtureServer
  let canary: FixtureServer
  let haproxy: ChildProcess | undefined
  let socket: string
  let url: string
  const changes: TrafficChange[] = []
  let control: ReturnType<typeof haproxyTraffic>
  let log: HaproxyLogListener

  beforeAll(async () => {
    const dir = makeTempDir('opsctl-haproxy-')
    stable = await startFixture('stable', 2)
    canary = await startFixture('canary', 2)
    socket = join(dir, 'admin.sock')
    log = await listenHaproxyLog({ port: 0, samples: { perEpoch: 100_000 } }) // keep every latency: the test counts them
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    const config = haproxyConfig({
      socket,
      bind: `127.0.0.1:${port}`,
      pool: 'app',
      servers: [
        { name: 'stable', address: `127.0.0.1:${stable.port}`, weight: 50 },
        { name: 'canary', address: `127.0.0.1:${canary.port}`, weight: 50 },
      ],
      healthPath: '/healthz',
      checkIntervalMs: 500,
      logTarget: `127.0.0.1:${log.port}`,
    })
    const file = join(dir, 'haproxy.cfg')
    writeFileSync(file, config)
    expect(spawnSync('haproxy', ['-c', '-q', '-f', file]).status).toBe(0)
    haproxy = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] })
    await waitFor(() => existsSync(socket), 10_000, 'the haproxy admin socket')
    control = haproxyTraffic({ socket, onChange: (change) => changes.push(change), pollMs: 50, log })
    await waitFor(async () => (await control.snapshot()).pools[0]?.backends.every((backend) => backend.health.up), 15_000, 'servers up')
  }, 60_000)

  afterAll(async () => {
    await stopChild(haproxy)
    await log?.close()
    await stable?.close()
    await canary?.close()
  })

  it('sets a 90/10 split through the runtime API and HAProxy sends that share', async () => {
    const snapshot = await control.setWeights('app', { stable: 90, canary: 10 })
    expect(snapshot.pools[0]!.backends.map((backend) => [backend.name, backend.weight])).toEqual([
      ['stable', 90],
      ['canary', 10],
    ])
    expect(changes.at(-1)).toEqual({
      kind: 'weights',
      pool: 'app',
      weights: { stable: 90, canary: 10 },
      previous: { stable: 50, canary: 50 },
    })
    const before = await control.stats()
    const baseline = await control.samples({ windowMs: 1 }) // gives the driver a baseline for the window below
    const started = Date.now()
    const load = runAutocannon(`${url}/work`, { connections: 20, seconds: 6 })
    const result = await load.result
    expect(result.errors).toBe(0)
    expect(result.non2xx).toBe(0)
    const after = await control.stats()
    const served = (name: string) =>
      after.find((stat) => stat.backend === name)!.requests - before.find((stat) => stat.backend === name)!.requests
    const total = served('stable') + served('canary')
    expect(total).toBeGreaterThan(500)
    expect(Math.abs((served('canary') / total) * 100 - 10)).toBeLessThanOrEqual(2)
    // The fixtures' own counts agree with HAProxy's counters.
    expect(canary.requests + stable.requests).toBeGreaterThanOrEqual(total)
    const window = await control.samples({ since: started - 1 })
    const canaryWindow = window.backends.find((backend) => backend.backend === 'canary')!
    expect(baseline.backends).toHaveLength(2)
    expect(canaryWindow.requests).toBe(served('canary'))
    expect(canaryWindow.outcomes['2xx']).toBe(served('canary'))
    // Raw latencies from HAProxy's request log, one per request (the window starts on the next whole second).
    expect(canaryWindow.unavailable).toBeUndefined()
    expect(canaryWindow.sampled).toBe(false)
    expect(canaryWindow.latencyMs!.length).toBeGreaterThan(served('canary') * 0.6)
    expect(canaryWindow.latencyMs!.length).toBeLessThanOrEqual(served('canary'))
    expect(canaryWindow.latencyMs!.every((value) => value >= 0 && value < 5000)).toBe(true)
    expect(log.skipped).toBe(0)
    expect(window.complete).toBe(true)
    // Without the log, the driver says what it cannot give rather than inventing it.
    const bare = await haproxyTraffic({ socket }).samples({ since: started - 1 })
    const bareCanary = bare.backends.find((backend) => backend.backend === 'canary')!
    expect(bareCanary.latencyMs).toBeUndefined()
    expect(bareCanary.unavailable).toMatch(/no per-request latencies/)
    expect(bareCanary.latency).toMatchObject({ source: 'haproxy-average' })
    const stats = after.find((stat) => stat.backend === 'canary')!
    expect(stats).toMatchObject({ pool: 'app', state: 'ready', health: { up: true }, inFlight: 0, latency: { source: 'haproxy-average' } })
  }, 60_000)

  it('lets the x-opsctl-route header pick the server', async () => {
    for (let index = 0; index < 10; index++) {
      const answer = await fetch(`${url}/x`, { headers: { 'x-opsctl-route': 'canary' } })
      expect(await answer.text()).toBe('canary')
    }
  })

  it('drains a server under load without a failed request, and it gets no new requests', async () => {
    const load = runAutocannon(`${url}/work`, { connections: 50, seconds: 6 })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const result = await control.drain('canary', { timeoutMs: 10_000 })
    expect(result).toMatchObject({ backend: 'canary', pool: 'app', drained: true, remaining: 0 })
    const countAtDrain = canary.requests
    const outcome = await load.result
    expect(outcome.errors).toBe(0)
    expect(outcome.non2xx).toBe(0)
    expect(canary.requests).toBe(countAtDrain)
    const snapshot = await control.snapshot()
    expect(snapshot.pools[0]!.backends.find((backend) => backend.name === 'canary')).toMatchObject({ state: 'drain', inFlight: 0 })
    expect(changes.some((change) => change.kind === 'drained' && change.backend === 'canary')).toBe(true)
    await control.undrain('app/canary')
    expect((await control.snapshot()).pools[0]!.backends.find((backend) => backend.name === 'canary')!.state).toBe('ready')
  }, 60_000)

  it('sets maint and ready', async () => {
    expect((await control.setState('canary', 'maint')).pools[0]!.backends.find((backend) => backend.name === 'canary')!.state).toBe('maint')
    expect((await control.setState('canary', 'ready')).pools[0]!.backends.find((backend) => backend.name === 'canary')!.state).toBe('ready')
  })

  it('refuses bad input with a reason and leaves the weights as they were', async () => {
    const expectBadInput = async (action: Promise<unknown>, message: RegExp) => {
      const error = await action.then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(OpsError)
      expect((error as OpsError).exit).toBe(2)
      expect((error as OpsError).message).toMatch(message)
    }
    await expectBadInput(control.setWeights('app', { stable: 95, canary: 10 }), /sum to 105/)
    await expectBadInput(control.setWeights('app', { stable: 101, canary: 0 }), /outside 0–100/)
    await expectBadInput(control.setWeights('app', { stable: 90, blue: 10 }), /Unknown backend "blue"/)
    await expectBadInput(control.setWeights('nope', { stable: 100 }), /Unknown pool "nope"/)
    await expectBadInput(control.drain('blue'), /Unknown backend "blue"/)
    const weights = (await control.snapshot()).pools[0]!.backends.map((backend) => backend.weight)
    expect(weights).toEqual([90, 10])
  })

  it('says the engine is unreachable (exit 3) when the socket is not there', async () => {
    const error = await haproxyTraffic({ socket: join(makeTempDir(), 'none.sock') })
      .stats()
      .catch((caught: unknown) => caught)
    expect((error as OpsError).exit).toBe(3)
    expect((error as OpsError).message).toMatch(/did not answer/)
  })
})

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
