/**
 * The built-in router as a user runs it (`opsctl router start` in its own process) in front of
 * two reference-service instances (v1 stable, v2 canary), loaded by real autocannon.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServiceProcess, type ServiceProcess } from '../../src/demo/service-process.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { makeTempDir } from '../helpers/temp.js'
import { cli, startRouterProcess, type RouterProcess } from './cli.js'
import { runAutocannon, stopChild } from './support.js'
import { waitFor } from '../helpers/wait.js'

let database: TestDatabase
let stable: ServiceProcess
let canary: ServiceProcess
let router: RouterProcess | undefined
let dir: string
let routerArgs: string[]
let token: string

async function versionCount(service: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text()
  let total = 0
  for (const match of text.matchAll(/^http_request_duration_seconds_count\{([^}]*)\} (\d+)/gm)) {
    if (match[1]!.includes('route="/version"')) total += Number(match[2])
  }
  return total
}

async function admin(path: string, init: RequestInit = {}, withToken = true): Promise<Response> {
  return fetch(`${router!.listening.adminUrl}${path}`, {
    ...init,
    headers: { ...(withToken ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) },
  })
}

interface Stat {
  backend: string
  requests: number
  inFlight: number
  weight: number
  state: string
  health: { up: boolean }
  outcomes: Record<string, number>
  retried: number
}

async function stats(): Promise<Stat[]> {
  return (await (await admin('/v1/stats')).json()) as Stat[]
}

const statOf = (all: Stat[], name: string) => all.find((stat) => stat.backend === name)!

beforeAll(async () => {
  database = await createTestDatabase('traffic')
  dir = makeTempDir('opsctl-router-')
  const env = { LOG_LEVEL: 'warn', OPSCTL_STATE_DIR: join(dir, 'service-state') }
  ;[stable, canary] = await Promise.all([
    startServiceProcess({ databaseUrl: database.url, port: 0, env: { ...env, SERVICE_VERSION: 'v1' } }),
    startServiceProcess({ databaseUrl: database.url, port: 0, env: { ...env, SERVICE_VERSION: 'v2' } }),
  ])
  routerArgs = [
    '--backend',
    `stable=${stable.url}`,
    '--backend',
    `canary=${canary.url}`,
    '--weights',
    'stable=90,canary=10',
    '--sticky-header',
    'x-user-id',
    '--sticky-cookie',
    'opsctl_route',
    '--port',
    '0',
    '--admin-port',
    '0',
  ]
  router = await startRouterProcess(dir, routerArgs)
  token = readFileSync(join(dir, '.opsctl', 'router', 'token'), 'utf8').trim()
}, 120_000)

afterAll(async () => {
  await stopChild(router?.child)
  await Promise.all([stable?.stop(), canary?.stop()])
  await database?.drop()
}, 180_000)

describe('opsctl router start in front of two reference-service instances', () => {
  it('splits 90/10 under 20 s of autocannon within 2 points, sticky users never switch, the override always wins', async () => {
    const before = [await versionCount(stable), await versionCount(canary)]
    const load = runAutocannon(`${router!.listening.url}/version`, { connections: 50, seconds: 20 })
    const seen = new Map<string, Set<string>>()
    const overrides = { asked: 0, won: 0 }
    let cookieSwitches = 0
    let probing = true
    const probes = (async () => {
      const cookies = new Map<number, string>()
      for (let round = 0; probing; round++) {
        for (let user = 0; user < 40 && probing; user++) {
          const answer = await fetch(`${router!.listening.url}/healthz`, { headers: { 'x-user-id': `user-${user}` } })
          await answer.arrayBuffer()
          const versions = seen.get(`user-${user}`) ?? new Set<string>()
          versions.add(answer.headers.get('x-version')!)
          seen.set(`user-${user}`, versions)
        }
        for (const route of ['canary', 'stable']) {
          const answer = await fetch(`${router!.listening.url}/healthz`, { headers: { 'x-opsctl-route': route, 'x-user-id': 'user-1' } })
          await answer.arrayBuffer()
          overrides.asked++
          if (answer.headers.get('x-version') === (route === 'canary' ? 'v2' : 'v1')) overrides.won++
        }
        // A browser-like client: keeps the cookie it was given and must stay where it landed.
        for (let client = 0; client < 10 && probing; client++) {
          const cookie = cookies.get(client)
          const answer = await fetch(`${router!.listening.url}/healthz`, { headers: cookie ? { cookie } : {} })
          await answer.arrayBuffer()
          const given = answer.headers.get('set-cookie')?.split(';')[0]
          if (given) cookies.set(client, given)
          const backend = answer.headers.get('x-opsctl-backend')!
          if (cookie && cookie !== `opsctl_route=${backend}`) cookieSwitches++
        }
      }
    })()
    const result = await load.result
    probing = false
    await probes
    expect(result.errors).toBe(0)
    expect(result.non2xx).toBe(0)
    const served = [(await versionCount(stable)) - before[0]!, (await versionCount(canary)) - before[1]!]
    const total = served[0]! + served[1]!
    // autocannon counts the requests completed within its duration; up to one per connection was still on its way.
    expect(total).toBeGreaterThanOrEqual(result.requests.total)
    expect(total).toBeLessThanOrEqual(result.requests.total + 50)
    const canaryShare = (served[1]! / total) * 100
    expect(Math.abs(canaryShare - 10)).toBeLessThanOrEqual(2)
    expect(seen.size).toBe(40)
    expect([...seen.values()].every((versions) => versions.size === 1)).toBe(true)
    expect(overrides.asked).toBeGreaterThan(0)
    expect(overrides.won).toBe(overrides.asked)
    expect(cookieSwitches).toBe(0)
  }, 180_000)

  it('reports per-backend counters, latency percentiles, Prometheus metrics and raw samples', async () => {
    const all = await stats()
    expect(statOf(all, 'canary')).toMatchObject({ weight: 10, state: 'ready', health: { up: true }, inFlight: 0 })
    expect(statOf(all, 'stable').requests).toBeGreaterThan(statOf(all, 'canary').requests)
    const metrics = await (await admin('/metrics')).text()
    expect(metrics).toMatch(/^opsctl_router_requests_total\{pool="default",backend="canary",class="2xx"\} \d+$/m)
    expect(metrics).toMatch(/^opsctl_router_request_duration_seconds_bucket\{pool="default",backend="stable",le="\+Inf"\} \d+$/m)
    const window = (await (await admin('/v1/samples?window=60s&max=500')).json()) as {
      backends: Array<{ backend: string; latencyMs: number[]; requests: number; answered: number }>
    }
    const canaryWindow = window.backends.find((backend) => backend.backend === 'canary')!
    expect(canaryWindow.latencyMs.length).toBeGreaterThan(100)
    expect(canaryWindow.latencyMs.length).toBeLessThanOrEqual(500)
    expect(canaryWindow.latencyMs.every((value) => value > 0 && value < 10_000)).toBe(true)
  })

  it('drains a backend while 100 connections run: no failed request, in-flight reaches 0, no new request', async () => {
    const load = runAutocannon(`${router!.listening.url}/version`, { connections: 100, seconds: 8 })
    await new Promise((resolve) => setTimeout(resolve, 2500))
    const drain = await cli(dir, ['router', 'drain', 'canary', '--timeout', '10s', '--json'])
    expect(drain.status).toBe(0)
    expect(JSON.parse(drain.stdout)).toMatchObject({ backend: 'canary', drained: true, remaining: 0 })
    const atDrain = await versionCount(canary)
    const routedAtDrain = statOf(await stats(), 'canary').requests
    const result = await load.result
    expect(result.errors).toBe(0)
    expect(result.non2xx).toBe(0)
    expect(await versionCount(canary)).toBe(atDrain)
    const after = statOf(await stats(), 'canary')
    expect(after).toMatchObject({ state: 'drain', inFlight: 0, requests: routedAtDrain })
    expect((await cli(dir, ['router', 'undrain', 'canary'])).status).toBe(0)
    expect(statOf(await stats(), 'canary').state).toBe('ready')
  }, 180_000)

  it('guards the admin API: 401 without the token, loopback only, 4xx with a reason for bad requests, state untouched', async () => {
    expect((await admin('/v1/stats', {}, false)).status).toBe(401)
    expect((await admin('/v1/stats', { headers: { authorization: 'Bearer wrong' } }, false)).status).toBe(401)
    const port = new URL(router!.listening.adminUrl).port
    // Bound to 127.0.0.1 only: another loopback address of the same host gets no answer.
    await expect(fetch(`http://127.0.0.2:${port}/v1/stats`)).rejects.toThrow()
    const malformed = await admin('/v1/pools/default/weights', { method: 'PUT', body: '{"weights": {"stable": 90,' })
    expect(malformed.status).toBe(400)
    expect(((await malformed.json()) as { error: { message: string } }).error.message).toMatch(/not JSON/)
    const wrongShape = await admin('/v1/pools/default/weights', { method: 'PUT', body: '{"weights": [90, 10]}' })
    expect(wrongShape.status).toBe(400)
    expect((await admin('/v1/backends/blue/drain', { method: 'POST' })).status).toBe(400)
    expect((await admin('/v1/nothing')).status).toBe(404)
    expect((await admin('/v1/stats', { method: 'DELETE' })).status).toBe(405)

    const cases: Array<[string[], RegExp]> = [
      [['router', 'set-weight', 'stable=95,canary=10'], /sum to 105, not 100/],
      [['router', 'set-weight', 'stable=101,canary=0'], /outside 0–100/],
      [['router', 'set-weight', 'stable=90,blue=10'], /Unknown backend "blue"/],
      [['router', 'drain', 'blue'], /Unknown backend "blue"/],
    ]
    for (const [args, message] of cases) {
      const result = await cli(dir, args)
      expect(result.status).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.stderr).not.toMatch(/at .*\.ts:\d+/)
    }
    const wrongToken = await cli(dir, ['router', 'status'], { OPSCTL_ROUTER_TOKEN: 'not-the-token-at-all' })
    expect(wrongToken.status).toBe(2)
    expect(wrongToken.stderr).toMatch(/refused the admin token/)
    expect((await stats()).map((stat) => [stat.backend, stat.weight, stat.state])).toEqual([
      ['stable', 90, 'ready'],
      ['canary', 10, 'ready'],
    ])
  }, 180_000)

  it('refuses a non-loopback admin address and backends that refuse connections', async () => {
    const other = makeTempDir('opsctl-router-bad-')
    const remote = await cli(other, ['router', 'start', '--backend', `stable=${stable.url}`, '--admin-host', '0.0.0.0', '--port', '0'])
    expect(remote.status).toBe(2)
    expect(remote.stderr).toMatch(/not a loopback address/)
    const refused = await cli(other, ['router', 'start', '--backend', 'down=http://127.0.0.1:1', '--port', '0', '--admin-port', '0'])
    expect(refused.status).toBe(3)
    expect(refused.stderr).toMatch(/Backend down at http:\/\/127.0.0.1:1 refuses connections/)
  }, 180_000)

  it('restores weights and states after a restart, and records every change in the journal', async () => {
    expect((await cli(dir, ['router', 'set-weight', 'stable=70,canary=30'])).status).toBe(0)
    router!.child.kill('SIGINT')
    expect(await router!.exited).toBe(130)
    expect(router!.lines.at(-1)).toMatchObject({ event: 'stopped' })
    router = await startRouterProcess(dir, routerArgs)
    expect(router.listening.restored).toBe(true)
    expect(router.listening.backends.map((backend) => [backend.name, backend.weight])).toEqual([
      ['stable', 70],
      ['canary', 30],
    ])
    expect((await cli(dir, ['router', 'set-weight', 'stable=90,canary=10'])).status).toBe(0)
    const journal = await cli(dir, ['journal', '--kind', 'router', '--json'])
    const kinds = journal.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { kind: string }).kind)
    expect(kinds).toEqual(expect.arrayContaining(['router.weight', 'router.state', 'router.drained']))
  }, 180_000)

  it('keeps serving when a backend is SIGKILLed under load: failures at most what was in flight on it', async () => {
    const before = statOf(await stats(), 'stable').requests
    const load = runAutocannon(`${router!.listening.url}/version`, { connections: 50, seconds: 8 })
    await new Promise((resolve) => setTimeout(resolve, 2500))
    process.kill(canary.pid, 'SIGKILL')
    const result = await load.result
    const all = await stats()
    const killed = statOf(all, 'canary')
    const failed = result.errors + result.non2xx
    // What the router could not move elsewhere: the requests in flight on it when it died.
    const lost = killed.outcomes.connection! - killed.retried
    expect(failed).toBeLessThanOrEqual(lost)
    expect(lost).toBeLessThanOrEqual(50)
    expect(killed.health.up).toBe(false)
    expect(killed.inFlight).toBe(0)
    expect(statOf(all, 'stable').requests - before).toBeGreaterThan(result.requests.total * 0.8)
    expect(result['2xx']).toBeGreaterThan(0)
    const status = await cli(dir, ['router', 'status', '--json'])
    expect(JSON.parse(status.stdout).backends[1]).toMatchObject({ backend: 'canary', health: { up: false } })
    await waitFor(
      async () => {
        const journal = await cli(dir, ['journal', '--kind', 'router.backend-down', '--json'])
        return journal.stdout.includes('"canary"') || undefined
      },
      20_000,
      'the backend-down event',
    )
  }, 180_000)
})
