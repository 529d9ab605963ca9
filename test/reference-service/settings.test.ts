import { describe, expect, it } from 'vitest'
import { ConfigError, envFlagProvider, loadServiceConfig, parseFlagList } from '../../reference-service/src/index.js'

describe('loadServiceConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadServiceConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      poolMax: 10,
      migrate: false,
      seed: false,
      seedScale: 1,
      faults: { errorRate: 0, latencyMs: 0, cpuWork: 0, reportCpuFactor: 1 },
      logLevel: 'info',
      stateDir: '.opsctl',
      querySampleRate: 1,
      versionOverride: undefined,
    })
  })

  it('reads every variable, and SEED=1 implies migrating', () => {
    const config = loadServiceConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://app:secret@db:5432/app',
      PG_POOL_MAX: '4',
      SEED: '1',
      SEED_SCALE: '0.01',
      FAULT_ERROR_RATE: '0.25',
      FAULT_LATENCY_MS: '200',
      FAULT_CPU_WORK: '600',
      FAULT_REPORT_CPU: '4',
      OPSCTL_QUERY_LOG: '/tmp/queries.jsonl',
      OPSCTL_QUERY_SAMPLE: '25%',
      LOG_LEVEL: 'silent',
      OPSCTL_STATE_DIR: '/tmp/state',
      SERVICE_VERSION: '2.0.0',
    })
    expect(config).toMatchObject({ port: 0, host: '0.0.0.0', poolMax: 4, migrate: true, seed: true, seedScale: 0.01, logLevel: 'silent' })
    expect(config.faults).toEqual({ errorRate: 0.25, latencyMs: 200, cpuWork: 600, reportCpuFactor: 4 })
    expect(config.versionOverride).toBe('2.0.0')
    expect(config).toMatchObject({ queryLog: '/tmp/queries.jsonl', querySampleRate: 0.25 })
  })

  it('accepts a fractional latency fault, to the microsecond', () => {
    expect(loadServiceConfig({ FAULT_LATENCY_MS: '1.25' }).faults.latencyMs).toBe(1.25)
    expect(loadServiceConfig({ FAULT_LATENCY_MS: '0.001' }).faults.latencyMs).toBe(0.001)
  })

  it('accepts the error rate as a percentage', () => {
    expect(loadServiceConfig({ FAULT_ERROR_RATE: '5%' }).faults.errorRate).toBeCloseTo(0.05)
  })

  it.each([
    ['PORT', '70000'],
    ['PORT', 'http'],
    ['PG_POOL_MAX', '0'],
    ['FAULT_ERROR_RATE', '1.5'],
    ['FAULT_LATENCY_MS', '-1'],
    ['FAULT_LATENCY_MS', '1.2345'],
    ['FAULT_LATENCY_MS', '1e3'],
    ['FAULT_LATENCY_MS', '600001'],
    ['FAULT_LATENCY_MS', '.5'],
    ['FAULT_CPU_WORK', '-1'],
    ['FAULT_CPU_WORK', 'lots'],
    ['FAULT_REPORT_CPU', '0'],
    ['OPSCTL_QUERY_SAMPLE', '2'],
    ['SEED_SCALE', '0'],
    ['MIGRATE', 'maybe'],
    ['LOG_LEVEL', 'verbose'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadServiceConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadServiceConfig({ [name]: value })).toThrow(name)
  })
})

describe('envFlagProvider', () => {
  it('turns on the flags OPSCTL_FLAGS names and nothing else', () => {
    const flags = envFlagProvider({ OPSCTL_FLAGS: 'orders.eager-loading, other' })
    expect(flags.isEnabled('orders.eager-loading')).toBe(true)
    expect(flags.isEnabled('other', { userId: '1' })).toBe(true)
    expect(flags.isEnabled('absent')).toBe(false)
    expect(envFlagProvider({}).isEnabled('orders.eager-loading')).toBe(false)
  })

  it('lets name=false force a flag off', () => {
    expect(parseFlagList('a=false,b=true,c')).toEqual(
      new Map([
        ['a', false],
        ['b', true],
        ['c', true],
      ]),
    )
  })

  it('refuses an entry it cannot read instead of treating it as off', () => {
    expect(() => parseFlagList('a=maybe')).toThrow('a=maybe')
    expect(() => parseFlagList('=true')).toThrow(ConfigError)
  })
})
