import { describe, expect, it } from 'vitest'
import { OpsError } from '../../src/core/index.js'
import { HealthState, DEFAULT_HEALTH_POLICY } from '../../src/traffic/health.js'
import { RouteTable } from '../../src/traffic/routes.js'
import { PoolSelector, hashString } from '../../src/traffic/selection.js'
import { SampleStore } from '../../src/traffic/samples.js'
import { seededRandom } from '../../src/core/index.js'
import {
  buildTopology,
  checkPoolWeights,
  equalWeights,
  parseBackendSpec,
  parseRouteSpec,
  parseWeightList,
} from '../../src/traffic/topology.js'

function badInputMessage(action: () => unknown): string {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError)
    expect((error as OpsError).exit).toBe(2)
    return (error as OpsError).message
  }
  throw new Error('expected bad input')
}

const members = (weights: Record<string, number>, down: string[] = []) =>
  Object.entries(weights).map(([name, weight]) => ({ name, weight, eligible: !down.includes(name), available: !down.includes(name) }))

describe('backend, weight and route specs', () => {
  it('reads [pool/]name=url and keeps the origin only', () => {
    expect(parseBackendSpec('stable=http://127.0.0.1:3001')).toEqual({ name: 'stable', pool: 'default', url: 'http://127.0.0.1:3001' })
    expect(parseBackendSpec('payments/v2=http://10.0.0.5:8080/')).toEqual({ name: 'v2', pool: 'payments', url: 'http://10.0.0.5:8080' })
  })

  it.each([
    ['stable', 'expected [pool/]name=http://host:port'],
    ['=http://x:1', 'expected [pool/]name=http://host:port'],
    ['a b=http://x:1', 'not a valid name'],
    ['x=ftp://x:1', 'ftp: is not http: or https:'],
    ['x=http://x:1/api', 'origin only'],
    ['x=http://u:p@x:1', 'credentials'],
    ['x=not a url', 'is not a URL'],
    ['x=http://x:1?q=1', 'origin only'],
  ])('refuses backend %j', (text, message) => {
    expect(badInputMessage(() => parseBackendSpec(text))).toContain(message)
  })

  it('reads weights from one list or several, with an optional %', () => {
    expect(parseWeightList(['stable=90,canary=10'])).toEqual({ stable: 90, canary: 10 })
    expect(parseWeightList(['stable=90%', 'canary=10'])).toEqual({ stable: 90, canary: 10 })
  })

  it.each([
    [['stable=101'], 'outside 0–100'],
    [['stable=-1'], 'not a whole number'],
    [['stable=9.5'], 'not a whole number'],
    [['stable'], 'expected name=weight'],
    [['stable=1,stable=2'], 'given twice'],
    [[''], 'no weights'],
    [['stable=1e2'], 'not a whole number'],
  ])('refuses weights %j', (texts, message) => {
    expect(badInputMessage(() => parseWeightList(texts))).toContain(message)
  })

  it('checks that a pool is weighted whole: every backend, known names, summing to 100', () => {
    expect(checkPoolWeights('default', ['stable', 'canary'], { stable: 75, canary: 25 })).toEqual({ stable: 75, canary: 25 })
    expect(badInputMessage(() => checkPoolWeights('default', ['stable', 'canary'], { stable: 90, canary: 5 }))).toContain(
      'sum to 95, not 100',
    )
    expect(badInputMessage(() => checkPoolWeights('default', ['stable', 'canary'], { stable: 100 }))).toContain('canary missing')
    expect(badInputMessage(() => checkPoolWeights('default', ['stable'], { stable: 90, blue: 10 }))).toContain('Unknown backend "blue"')
    expect(badInputMessage(() => checkPoolWeights('default', ['stable', 'canary'], { stable: 100.5, canary: -0.5 }))).toContain(
      'outside 0–100',
    )
    expect(badInputMessage(() => checkPoolWeights('default', ['stable', 'canary'], { stable: '90', canary: 10 }))).toContain(
      'outside 0–100',
    )
    expect(badInputMessage(() => checkPoolWeights('nope', [], {}))).toContain('Unknown pool')
  })

  it('gives pools without weights equal shares summing to 100', () => {
    expect(equalWeights(['a', 'b', 'c'])).toEqual({ a: 34, b: 33, c: 33 })
  })

  it('reads routes and refuses what is not a path prefix', () => {
    expect(parseRouteSpec('/payments/=payments')).toEqual({ prefix: '/payments', pool: 'payments' })
    expect(badInputMessage(() => parseRouteSpec('payments=payments'))).toContain('must start with /')
    expect(badInputMessage(() => parseRouteSpec('/p?x=1=pool'))).toContain('without query')
    expect(badInputMessage(() => parseRouteSpec('/p'))).toContain('expected /prefix=pool')
  })

  it('builds a topology and refuses duplicates, unknown pools and unknown names', () => {
    const backends = [
      parseBackendSpec('stable=http://a:1'),
      parseBackendSpec('canary=http://b:1'),
      parseBackendSpec('payments/pay=http://c:1'),
    ]
    const topology = buildTopology({ backends, routes: [parseRouteSpec('/payments=payments')], weights: { stable: 90, canary: 10 } })
    expect(topology.weights).toEqual({ default: { stable: 90, canary: 10 }, payments: { pay: 100 } })
    expect(badInputMessage(() => buildTopology({ backends: [...backends, parseBackendSpec('x/stable=http://d:1')] }))).toContain(
      'given twice',
    )
    expect(badInputMessage(() => buildTopology({ backends, routes: [parseRouteSpec('/x=nowhere')] }))).toContain('unknown pool "nowhere"')
    expect(badInputMessage(() => buildTopology({ backends, weights: { blue: 10 } }))).toContain('unknown backend "blue"')
    expect(badInputMessage(() => buildTopology({ backends: [] }))).toContain('No backends')
  })
})

describe('weighted selection', () => {
  it('hits a 90/10 split exactly in every run of 100 requests', () => {
    const selector = new PoolSelector(members({ stable: 90, canary: 10 }))
    for (let run = 0; run < 5; run++) {
      const counts = [0, 0]
      for (let request = 0; request < 100; request++) counts[selector.pickWeighted()]!++
      expect(counts).toEqual([90, 10])
    }
  })

  it('gives a down backend share to the others, and nothing to a weight of 0', () => {
    const selector = new PoolSelector(members({ a: 50, b: 30, c: 20 }, ['b']))
    const counts = [0, 0, 0]
    for (let request = 0; request < 700; request++) counts[selector.pickWeighted()]!++
    expect(counts).toEqual([500, 0, 200])
    selector.update(members({ a: 100, b: 0, c: 0 }))
    expect(new Set(Array.from({ length: 50 }, () => selector.pickWeighted()))).toEqual(new Set([0]))
    selector.update(members({ a: 100, b: 0, c: 0 }, ['a']))
    expect(selector.pickWeighted()).toBe(-1)
  })

  it('never picks the excluded backend (a retry goes elsewhere)', () => {
    const selector = new PoolSelector(members({ a: 50, b: 50 }))
    for (let request = 0; request < 20; request++) expect(selector.pickWeighted(0)).toBe(1)
  })
})

describe('sticky selection by hashed key', () => {
  const users = Array.from({ length: 5000 }, (_, index) => hashString(`user-${index}`))

  it('keeps each user on one backend and splits users by weight', () => {
    const selector = new PoolSelector(members({ stable: 90, canary: 10 }))
    const first = users.map((user) => selector.pickHashed(user))
    expect(users.map((user) => selector.pickHashed(user))).toEqual(first)
    const canaryShare = first.filter((index) => index === 1).length / users.length
    expect(canaryShare).toBeGreaterThan(0.08)
    expect(canaryShare).toBeLessThan(0.12)
  })

  it('moves only the users the canary gains when its weight grows', () => {
    const selector = new PoolSelector(members({ stable: 90, canary: 10 }))
    const before = users.map((user) => selector.pickHashed(user))
    selector.update(members({ stable: 75, canary: 25 }))
    const after = users.map((user) => selector.pickHashed(user))
    expect(before.every((index, user) => index === 0 || after[user] === 1)).toBe(true)
    expect(after.filter((index) => index === 1).length / users.length).toBeGreaterThan(0.22)
  })

  it('moves only the users of a backend that goes down', () => {
    const selector = new PoolSelector(members({ a: 34, b: 33, c: 33 }))
    const before = users.map((user) => selector.pickHashed(user))
    selector.update(members({ a: 34, b: 33, c: 33 }, ['b']))
    const after = users.map((user) => selector.pickHashed(user))
    expect(before.every((index, user) => index === 1 || after[user] === index)).toBe(true)
    expect(after.includes(1)).toBe(false)
  })
})

describe('routes by path prefix', () => {
  const table = new RouteTable(
    [
      { prefix: '/payments', pool: 'payments', target: 'payments' },
      { prefix: '/payments/refunds', pool: 'refunds', target: 'refunds' },
    ],
    'default',
  )

  it.each([
    ['/payments', 'payments'],
    ['/payments/42', 'payments'],
    ['/payments?x=1', 'payments'],
    ['/payments/refunds/7', 'refunds'],
    ['/paymentsX', 'default'],
    ['/', 'default'],
    ['/orders/payments', 'default'],
  ])('%s goes to %s', (url, pool) => {
    expect(table.match(url)).toBe(pool)
  })
})

describe('health', () => {
  it('goes down after fall failed checks and back after rise passing ones', () => {
    const health = new HealthState({ ...DEFAULT_HEALTH_POLICY, fall: 3, rise: 2 }, 0)
    expect(health.checkFailed(1, 'GET /healthz 500')).toBeUndefined()
    expect(health.checkFailed(2, 'GET /healthz 500')).toBeUndefined()
    expect(health.checkFailed(3, 'GET /healthz 500')).toEqual({ to: 'down', reason: '3 checks failed: GET /healthz 500' })
    expect(health.checkPassed(4)).toBeUndefined()
    expect(health.checkFailed(5, 'x')).toBeUndefined()
    expect(health.checkPassed(6)).toBeUndefined()
    expect(health.checkPassed(7)?.to).toBe('up')
    expect(health.lastDurationMs).toBe(4)
  })

  it('goes down on consecutive connection failures or a burst of 5xx, not on scattered ones', () => {
    const health = new HealthState({ ...DEFAULT_HEALTH_POLICY, connectFailures: 3, errorBurst: 3 }, 0)
    health.connectionFailed(1, 'ECONNREFUSED')
    health.connectionFailed(2, 'ECONNREFUSED')
    health.answered(3, 200)
    health.connectionFailed(4, 'ECONNREFUSED')
    health.answered(5, 500)
    health.answered(6, 503)
    health.answered(7, 404)
    expect(health.up).toBe(true)
    health.answered(8, 500)
    health.answered(9, 500)
    expect(health.answered(10, 502)?.to).toBe('down')
  })

  it('without active checks, tries a downed backend again after the cooldown', () => {
    const health = new HealthState({ ...DEFAULT_HEALTH_POLICY, activeChecks: false, connectFailures: 1, cooldownMs: 1000 }, 0)
    expect(health.connectionFailed(10, 'ECONNRESET')?.to).toBe('down')
    expect(health.cooldownElapsed(500)).toBeUndefined()
    expect(health.cooldownElapsed(1010)?.to).toBe('up')
  })
})

describe('windowed latency samples', () => {
  it('keeps exact counts and at most perEpoch latencies per epoch', () => {
    const store = new SampleStore({ epochMs: 1000, perEpoch: 10, retainEpochs: 5, random: seededRandom(1) })
    for (let index = 0; index < 100; index++) store.record(5000 + index, index, index % 10 === 0 ? 3 : 0)
    store.record(5500, 0, 4)
    const window = store.collect(5000, 5999)
    expect(window.requests).toBe(101)
    expect(window.answered).toBe(100)
    expect(window.outcomes).toEqual([90, 0, 0, 10, 1])
    expect(window.latencyMs).toHaveLength(10)
    expect(window.sampled).toBe(true)
    expect(window.complete).toBe(true)
  })

  it('samples every epoch at the same rate, so a busy second does not outweigh a quiet one', () => {
    const store = new SampleStore({ epochMs: 1000, perEpoch: 50, retainEpochs: 10, random: seededRandom(2) })
    for (let index = 0; index < 1000; index++) store.record(1000 + index, 1, 0) // busy second: latency 1
    for (let index = 0; index < 100; index++) store.record(2000 + index * 5, 2, 0) // quiet second: latency 2
    const window = store.collect(1000, 2999)
    const ones = window.latencyMs.filter((value) => value === 1).length
    const twos = window.latencyMs.filter((value) => value === 2).length
    expect(ones / twos).toBeCloseTo(10, 0)
  })

  it('caps the samples of a window and says when older epochs are gone', () => {
    const store = new SampleStore({ epochMs: 1000, perEpoch: 100, retainEpochs: 3, random: seededRandom(3) })
    for (let second = 0; second < 6; second++) for (let index = 0; index < 100; index++) store.record(second * 1000 + index, second, 0)
    const recent = store.collect(3000, 5999, 30)
    expect(recent.latencyMs.length).toBeLessThanOrEqual(30)
    expect(recent.complete).toBe(true)
    expect(recent.requests).toBe(300)
    const all = store.collect(0, 5999)
    expect(all.complete).toBe(false)
    expect(all.requests).toBe(300)
    expect(all.fromMs).toBe(0)
  })

  it('never returns more than the cap, and about as many', () => {
    const store = new SampleStore({ epochMs: 1000, perEpoch: 64, retainEpochs: 100, random: seededRandom(4) })
    for (let second = 0; second < 50; second++)
      for (let index = 0; index < 10 + second * 7; index++) store.record(second * 1000 + index, index, 0)
    for (const cap of [37, 500, 1000]) {
      const window = store.collect(0, 49_999, cap)
      expect(window.latencyMs.length).toBeLessThanOrEqual(cap)
      expect(window.latencyMs.length).toBeGreaterThan(cap * 0.7)
    }
  })

  it('starts a window at the next epoch boundary', () => {
    const store = new SampleStore({ epochMs: 1000, perEpoch: 100, retainEpochs: 10 })
    store.record(1500, 1, 0)
    store.record(2500, 2, 0)
    expect(store.collect(1200, 3000).latencyMs).toEqual([2])
    expect(store.collect(1000, 3000).latencyMs).toEqual([1, 2])
  })
})
