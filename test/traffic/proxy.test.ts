/**
 * The proxy's behaviour on the wire, in process, against small fixture servers: routing, bodies,
 * headers, the override, stickiness by cookie, and what a client sees when a backend fails.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrafficChange } from '../../src/traffic/control.js'
import { startRouter, type RunningRouterHandle } from '../../src/traffic/router.js'
import { buildTopology, parseBackendSpec, parseRouteSpec } from '../../src/traffic/topology.js'

interface Echo {
  url: string
  server: Server
  seen: IncomingMessage[]
}

async function echoServer(
  name: string,
  handle?: (request: IncomingMessage, body: string, respond: (status: number, text: string) => void) => boolean,
): Promise<Echo> {
  const echo: Echo = { url: '', server: createServer(), seen: [] }
  echo.server.on('request', (request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      echo.seen.push(request)
      const respond = (status: number, text: string) => {
        response.writeHead(status, { 'x-name': name, 'keep-alive': 'timeout=5', 'set-cookie': ['a=1', 'b=2'] })
        response.end(text)
      }
      if (handle?.(request, body, respond)) return
      respond(200, JSON.stringify({ name, method: request.method, url: request.url, body, headers: request.headers }))
    })
  })
  await new Promise<void>((resolve) => echo.server.listen(0, '127.0.0.1', resolve))
  echo.url = `http://127.0.0.1:${(echo.server.address() as AddressInfo).port}`
  return echo
}

let stable: Echo
let canary: Echo
let payments: Echo
let router: RunningRouterHandle
const changes: TrafficChange[] = []

beforeAll(async () => {
  stable = await echoServer('stable', (request, _body, respond) => {
    if (request.url === '/slow') {
      setTimeout(() => respond(200, 'late'), 3000)
      return true
    }
    if (request.url === '/broken') {
      request.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial')
      setTimeout(() => request.socket.destroy(), 50)
      return true
    }
    return false
  })
  canary = await echoServer('canary')
  payments = await echoServer('payments')
  const topology = buildTopology({
    backends: [
      parseBackendSpec(`stable=${stable.url}`),
      parseBackendSpec(`canary=${canary.url}`),
      parseBackendSpec(`payments/pay=${payments.url}`),
    ],
    routes: [parseRouteSpec('/payments=payments')],
    weights: { stable: 100, canary: 0 },
  })
  router = await startRouter({
    topology,
    host: '127.0.0.1',
    port: 0,
    adminHost: '127.0.0.1',
    adminPort: 0,
    token: 'a-token-of-twenty-chars',
    proxy: { stickyCookie: 'opsctl_route' },
    upstreamTimeoutMs: 1000,
    onChange: (change) => changes.push(change),
  })
})

afterAll(async () => {
  await router?.stop(1000)
  for (const echo of [stable, canary, payments]) {
    echo?.server.closeAllConnections()
    echo?.server.close()
  }
})

describe('the proxy', () => {
  it('routes by path prefix first, then by weight', async () => {
    expect((await fetch(`${router.url}/payments/42?x=1`)).headers.get('x-name')).toBe('payments')
    expect((await fetch(`${router.url}/paymentsX`)).headers.get('x-name')).toBe('stable')
  })

  it('forwards method, path, query, body and end-to-end headers; drops hop-by-hop ones; adds x-forwarded-for', async () => {
    const answer = await fetch(`${router.url}/orders?id=7&b=2`, {
      method: 'POST',
      body: 'x'.repeat(100_000),
      headers: { 'content-type': 'text/plain', 'x-request-id': 'r-1', 'x-forwarded-for': '203.0.113.9', te: 'trailers' },
    })
    expect(answer.status).toBe(200)
    const echoed = (await answer.json()) as { method: string; url: string; body: string; headers: Record<string, string> }
    expect(echoed).toMatchObject({ method: 'POST', url: '/orders?id=7&b=2' })
    expect(echoed.body).toHaveLength(100_000)
    expect(echoed.headers['x-request-id']).toBe('r-1')
    expect(echoed.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1')
    expect(echoed.headers.te).toBeUndefined()
    expect(answer.headers.get('keep-alive')).not.toBe('timeout=5')
    expect(answer.headers.getSetCookie()).toEqual(expect.arrayContaining(['a=1', 'b=2']))
  })

  it('lets the override reach a backend at weight 0, and refuses a drained one with a reason', async () => {
    expect((await fetch(`${router.url}/`, { headers: { 'x-opsctl-route': 'canary' } })).headers.get('x-name')).toBe('canary')
    await router.engine.setState('canary', 'drain')
    const refused = await fetch(`${router.url}/`, { headers: { 'x-opsctl-route': 'canary' } })
    expect(refused.status).toBe(503)
    expect(await refused.text()).toMatch(/backend canary is in drain/)
    const unknown = await fetch(`${router.url}/`, { headers: { 'x-opsctl-route': 'blue' } })
    expect(unknown.status).toBe(503)
    expect(await unknown.text()).toMatch(/no backend "blue" in pool default/)
    await router.engine.undrain('canary')
    expect(changes.filter((change) => change.kind === 'state').map((change) => (change as { state: string }).state)).toEqual([
      'drain',
      'ready',
    ])
  })

  it('sets the sticky cookie once and follows it while its backend takes requests', async () => {
    await router.engine.setWeights('default', { stable: 50, canary: 50 })
    const first = await fetch(`${router.url}/`)
    const cookie = first.headers.getSetCookie().find((value) => value.startsWith('opsctl_route='))!
    expect(cookie).toMatch(/^opsctl_route=(stable|canary); Path=\/; HttpOnly; SameSite=Lax$/)
    const backend = first.headers.get('x-opsctl-backend')
    for (let index = 0; index < 6; index++) {
      const next = await fetch(`${router.url}/`, { headers: { cookie: `other=1; ${cookie.split(';')[0]}` } })
      expect(next.headers.get('x-opsctl-backend')).toBe(backend)
      expect(next.headers.getSetCookie().some((value) => value.startsWith('opsctl_route='))).toBe(false)
    }
    await router.engine.setWeights('default', { stable: 100, canary: 0 })
  })

  it('answers 504 when a backend is silent past the upstream timeout, and 502 with the cause when it fails', async () => {
    const slow = await fetch(`${router.url}/slow`)
    expect(slow.status).toBe(504)
    expect(await slow.text()).toMatch(/backend stable timed out: UND_ERR_HEADERS_TIMEOUT/)
    const broken = await fetch(`${router.url}/broken`)
      .then((answer) => answer.text())
      .catch((error: Error) => error)
    expect(broken).toBeInstanceOf(Error) // cut on the client's side too, never passed off as whole
  })

  it('counts what happened per backend', async () => {
    const stats = await router.engine.stats()
    const stableStats = stats.find((stat) => stat.backend === 'stable')!
    expect(stableStats.outcomes.connection).toBeGreaterThanOrEqual(2)
    expect(stableStats.outcomes['2xx']).toBeGreaterThan(0)
    expect(stats.every((stat) => stat.inFlight === 0)).toBe(true)
  })
})
