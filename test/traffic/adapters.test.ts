import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OpsError, loadConfig } from '../../src/core/index.js'
import { haproxyConfig } from '../../src/traffic/haproxy-config.js'
import { adminStateOf, parseServersState, parseShowStat } from '../../src/traffic/haproxy.js'
import { parseHaproxyLogLine } from '../../src/traffic/haproxy-log.js'
import { BackendMetrics, prometheusText } from '../../src/traffic/metrics.js'
import { routerStartPlan } from '../../src/traffic/options.js'
import { isLoopback, probeBackends } from '../../src/traffic/router.js'
import { readStateFile, routerPaths, stateFileText, writeFileAtomicSync } from '../../src/traffic/state-file.js'
import { buildTopology, parseBackendSpec } from '../../src/traffic/topology.js'
import { makeTempDir } from '../helpers/temp.js'

async function rejection(promise: Promise<unknown>): Promise<OpsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(OpsError)
  return error as OpsError
}

function settingsIn(dir: string, yaml = '') {
  writeFileSync(join(dir, 'opsctl.yaml'), yaml)
  return loadConfig({ cwd: dir, env: {} })
}

describe('the state file', () => {
  it('round-trips a topology', () => {
    const dir = makeTempDir()
    const topology = buildTopology({
      backends: [parseBackendSpec('stable=http://a:1'), parseBackendSpec('canary=http://b:1')],
      weights: { stable: 60, canary: 40 },
    })
    const file = join(dir, 'state.json')
    writeFileAtomicSync(file, stateFileText(topology, new Date('2026-01-01T00:00:00Z')))
    expect(readStateFile(file)).toMatchObject({
      version: 1,
      savedAt: '2026-01-01T00:00:00.000Z',
      weights: { default: { stable: 60, canary: 40 } },
    })
    expect(readStateFile(join(dir, 'none.json'))).toBeUndefined()
  })

  it.each([
    ['{"version": 1, "savedAt": "x", "backends": [', /line 1/],
    ['{"version": 2, "savedAt": "x", "backends": [], "routes": [], "weights": {}, "states": {}}', /version/],
    ['[]', /not a router state file/],
    ['{"version": 1, "savedAt": "x", "backends": [], "routes": [], "weights": {}, "states": {"a": "broken"}}', /states\.a/],
  ])('names the file and what is wrong in a damaged one: %s', (text, message) => {
    const file = join(makeTempDir(), 'state.json')
    writeFileSync(file, text)
    let error: OpsError | undefined
    try {
      readStateFile(file)
    } catch (caught) {
      error = caught as OpsError
    }
    expect(error?.exit).toBe(2)
    expect(error?.message).toContain(file)
    expect(error?.message).toMatch(message)
    expect(error?.hint).toMatch(/--reset/)
  })
})

describe('what the router starts with', () => {
  it('takes backends, weights and routes from opsctl.yaml, and generates the token once (mode 600)', () => {
    const dir = makeTempDir()
    const settings = settingsIn(
      dir,
      'router:\n  backends: [stable=http://127.0.0.1:3001, canary=http://127.0.0.1:3002, payments/pay=http://127.0.0.1:4000]\n  weights: [stable=80, canary=20]\n  routes: [/payments=payments]\n',
    )
    const plan = routerStartPlan(settings)
    expect(plan.options.topology.weights).toEqual({ default: { stable: 80, canary: 20 }, payments: { pay: 100 } })
    expect(plan.options.topology.routes).toEqual([{ prefix: '/payments', pool: 'payments' }])
    expect(plan.tokenSource).toBe('generated')
    expect(routerStartPlan(settings).options.token).toBe(plan.options.token)
    expect(routerStartPlan(settings).tokenSource).toBe('file')
    expect(statSync(routerPaths(settings.stateDir).token).mode & 0o777).toBe(0o600)
  })

  it('restores saved weights and states when the backends are the same, and not otherwise or with --reset', () => {
    const dir = makeTempDir()
    const settings = settingsIn(dir)
    const backends = ['stable=http://127.0.0.1:3001', 'canary=http://127.0.0.1:3002']
    const saved = buildTopology({
      backends: backends.map((text) => parseBackendSpec(text)),
      weights: { stable: 50, canary: 50 },
      states: { canary: 'drain' },
    })
    writeFileAtomicSync(routerPaths(settings.stateDir).state, stateFileText(saved, new Date()))
    const restored = routerStartPlan(settings, { backends, weights: ['stable=90,canary=10'] })
    expect(restored.restored).toBe(true)
    expect(restored.options.topology.weights.default).toEqual({ stable: 50, canary: 50 })
    expect(restored.options.topology.states).toEqual({ canary: 'drain' })
    const fresh = routerStartPlan(settings, { backends, weights: ['stable=90,canary=10'], reset: true })
    expect(fresh.options.topology.weights.default).toEqual({ stable: 90, canary: 10 })
    const other = routerStartPlan(settings, { backends: ['stable=http://127.0.0.1:3001', 'canary=http://127.0.0.1:3999'] })
    expect(other.restored).toBe(false)
    expect(other.notes[0]).toMatch(/other backends/)
    const bare = routerStartPlan(settings, {})
    expect(bare.restored).toBe(true)
    expect(bare.options.topology.backends.map((backend) => backend.name)).toEqual(['stable', 'canary'])
  })

  it('refuses to start without backends, and says how to give them', () => {
    let error: OpsError | undefined
    try {
      routerStartPlan(settingsIn(makeTempDir()), {})
    } catch (caught) {
      error = caught as OpsError
    }
    expect(error?.exit).toBe(2)
    expect(error?.hint).toMatch(/--backend/)
  })

  it('refuses a short given token', () => {
    expect(() => routerStartPlan(settingsIn(makeTempDir(), 'router:\n  token: short\n  backends: [a=http://127.0.0.1:1]\n'))).toThrow(
      /at least 16/,
    )
  })
})

describe('start-up checks', () => {
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].some(isLoopback)).toBe(false)
  })

  it('says a backend host that does not resolve is bad input (exit 2)', async () => {
    const topology = buildTopology({ backends: [parseBackendSpec('x=http://no-such-host.invalid:80')] })
    const notFound = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))
    const error = await rejection(probeBackends(topology, 1000, notFound))
    expect(error.exit).toBe(2)
    expect(error.message).toBe('Backend x: no-such-host.invalid does not resolve (ENOTFOUND)')
  })

  it('says a backend that refuses connections is an environment problem (exit 3)', async () => {
    const topology = buildTopology({ backends: [parseBackendSpec('x=http://127.0.0.1:1')] })
    const error = await rejection(probeBackends(topology))
    expect(error.exit).toBe(3)
    expect(error.message).toMatch(/refuses connections/)
  })
})

describe('HAProxy runtime API answers', () => {
  const stat = [
    '# pxname,svname,qcur,scur,stot,econ,eresp,status,weight,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,ttime,ttime_max,addr,uweight,',
    'app,stable,0,3,100,1,0,UP,90,0,90,2,3,4,0,1,12,127.0.0.1:3001,90,',
    'app,canary,0,0,10,0,0,DRAIN,0,0,10,0,0,0,0,2,5,127.0.0.1:3002,10,',
    '',
  ].join('\n')

  it('reads show stat by column name', () => {
    const rows = parseShowStat(stat)
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({ pxname: 'app', svname: 'stable', scur: '3', hrsp_5xx: '4', addr: '127.0.0.1:3001' })
  })

  it('reads show servers state and its admin flags', () => {
    const state = [
      '1',
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord',
      '3 app 1 stable 127.0.0.1 2 0 90 90 2 15 3 4 6 0 0 0 - 3001 -',
      '3 app 2 canary 127.0.0.1 0 8 10 10 2 15 3 4 6 0 0 0 - 3002 -',
      '',
    ].join('\n')
    expect(parseServersState(state)).toEqual([
      { pool: 'app', server: 'stable', address: '127.0.0.1:3001', opState: 2, adminFlags: 0, userWeight: 90 },
      { pool: 'app', server: 'canary', address: '127.0.0.1:3002', opState: 0, adminFlags: 8, userWeight: 10 },
    ])
    expect([0, 0x01, 0x08, 0x10, 0x20, 0x09].map(adminStateOf)).toEqual(['ready', 'maint', 'drain', 'drain', 'maint', 'maint'])
  })

  it('refuses an answer that is not a stat table', () => {
    expect(() => parseShowStat('Unknown command.\n')).toThrow(/without a header/)
    expect(() => parseServersState('Permission denied\n')).toThrow(/without a header/)
  })
})

describe("HAProxy's request log", () => {
  it('reads our log lines out of syslog datagrams', () => {
    expect(parseHaproxyLogLine('<134>Dec  5 07:50:00 haproxy[12]: opsctl app canary 200 5 0 3')).toEqual({
      pool: 'app',
      server: 'canary',
      status: 200,
      latencyMs: 5,
      outcome: 0,
    })
    expect(parseHaproxyLogLine('<134>Dec  5 07:50:00 haproxy[12]: opsctl app canary 503 3001 -1 -1')).toMatchObject({ outcome: 4 })
    expect(parseHaproxyLogLine('<134>Dec  5 07:50:00 haproxy[12]: opsctl app <NOSRV> 503 0 -1 -1')).toBeUndefined()
    expect(parseHaproxyLogLine('<134>Dec  5 07:50:00 haproxy[12]: Proxy web started.')).toBeUndefined()
    expect(parseHaproxyLogLine('<134>x: opsctl app canary two 5 0 3')).toBeUndefined()
    expect(parseHaproxyLogLine('<134>x: opsctl app canary')).toBeUndefined()
  })
})

describe('the generated HAProxy configuration', () => {
  const options = {
    socket: '/run/haproxy/admin.sock',
    bind: '127.0.0.1:8080',
    pool: 'app',
    servers: [
      { name: 'stable', address: '10.0.0.11:3000', weight: 90 },
      { name: 'canary', address: '10.0.0.12:3000', weight: 10 },
    ],
    healthPath: '/healthz',
    stickyCookie: 'opsctl_route',
  }

  it('has the admin socket, the weights, checks, the override and the sticky cookie', () => {
    const text = haproxyConfig(options)
    expect(text).toContain('stats socket /run/haproxy/admin.sock mode 600 level admin')
    expect(text).toContain('server stable 10.0.0.11:3000 weight 90 check inter 2000ms rise 2 fall 3 cookie stable')
    expect(text).toContain('use-server canary if { req.hdr(x-opsctl-route) -m str canary }')
    expect(text).toContain('option httpchk GET /healthz')
    expect(text).toContain('cookie opsctl_route insert indirect nocache httponly')
  })

  it("logs each request in opsctl's format when asked", () => {
    const text = haproxyConfig({ ...options, logTarget: '127.0.0.1:5514' })
    expect(text).toContain('log 127.0.0.1:5514 local0 info')
    expect(text).toContain('log-format "opsctl %b %s %ST %Ta %Tc %Tr"')
    expect(() => haproxyConfig({ ...options, logTarget: '127.0.0.1:5514 local1' })).toThrow(/not host:port/)
  })

  it('refuses names HAProxy would misread', () => {
    expect(() => haproxyConfig({ ...options, servers: [{ name: 'a b', address: 'x:1', weight: 1 }] })).toThrow(/not a valid name/)
    expect(() => haproxyConfig({ ...options, socket: '/tmp/a b.sock' })).toThrow(/spaces/)
    expect(() => haproxyConfig({ ...options, servers: [] })).toThrow(/No servers/)
  })
})

describe('Prometheus text', () => {
  it('exposes counters and a cumulative histogram per backend, with escaped labels', () => {
    const metrics = new BackendMetrics({ epochMs: 1000, perEpoch: 8, retainEpochs: 4 })
    metrics.started()
    metrics.finish(1000, 3, 0)
    metrics.started()
    metrics.finish(1000, 700, 3)
    metrics.started()
    metrics.finish(1000, 0, 4)
    const text = prometheusText([{ pool: 'default', backend: 'we"ird', up: true, weight: 90, state: 'ready', metrics }])
    expect(text).toContain('opsctl_router_requests_total{pool="default",backend="we\\"ird",class="5xx"} 1')
    expect(text).toContain('opsctl_router_requests_total{pool="default",backend="we\\"ird",class="connection"} 1')
    expect(text).toContain('opsctl_router_request_duration_seconds_bucket{pool="default",backend="we\\"ird",le="0.005"} 1')
    expect(text).toContain('opsctl_router_request_duration_seconds_bucket{pool="default",backend="we\\"ird",le="+Inf"} 2')
    expect(text).toContain('opsctl_router_request_duration_seconds_count{pool="default",backend="we\\"ird"} 2')
    expect(metrics.latency()).toMatchObject({ source: 'histogram', count: 2, max: 700 })
  })
})
