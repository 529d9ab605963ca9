import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFlagServer, type FlagServer, type ReloadEvent } from '../../src/flags/server.js'
import { SAMPLE_FLAGS, tempProject } from './fixtures.js'

describe('flags serve', () => {
  const project = tempProject()
  const metricsFile = join(project.dir, '.opsctl', 'flags', 'metrics.json')
  const reloads: ReloadEvent[] = []
  const waiters: Array<(event: ReloadEvent) => void> = []
  let server: FlagServer
  const nextReload = () => new Promise<ReloadEvent>((resolve) => waiters.push(resolve))

  beforeAll(async () => {
    server = await startFlagServer({
      file: project.file,
      port: 0,
      metricsFile,
      onReload: (event) => {
        reloads.push(event)
        waiters.shift()?.(event)
      },
    })
  })
  afterAll(async () => {
    await server.stop()
    project.remove()
  })

  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { headers: { ...(token ? { authorization: token } : {}), ...headers } })
  const post = (path: string, token: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const features = async (environment = 'development') => {
    const response = await get('/client/features', server.tokens.client[environment])
    expect(response.status).toBe(200)
    return {
      etag: response.headers.get('etag'),
      body: (await response.json()) as { features: Array<{ name: string; enabled: boolean; strategies: unknown[] }> },
    }
  }

  it('binds 127.0.0.1 and gives SDKs a url ending in /api', () => {
    expect(server.host).toBe('127.0.0.1')
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/api`)
  })

  it('answers 401 without a token, with an unknown one, and with a token of the other API', async () => {
    expect((await get('/client/features')).status).toBe(401)
    expect((await get('/client/features', '*:development.not-the-token')).status).toBe(401)
    expect((await get('/client/features', server.tokens.frontend.development)).status).toBe(401)
    expect((await get('/frontend', server.tokens.client.development)).status).toBe(401)
    expect((await post('/client/metrics', 'nope-nope-nope', {})).status).toBe(401)
    const body = await (await get('/client/features')).json()
    expect(body).toEqual({ message: 'a valid client token is required in the Authorization header' })
  })

  it('serves each environment its own view with its own token', async () => {
    const development = await features('development')
    const production = await features('production')
    expect(development.body.features.find((feature) => feature.name === 'orders.eager-loading')?.enabled).toBe(true)
    expect(production.body.features.find((feature) => feature.name === 'orders.eager-loading')?.enabled).toBe(false)
    expect(development.etag).not.toBe(production.etag)
  })

  it('answers 304 to the ETag it gave, 200 to another', async () => {
    const { etag } = await features()
    expect(etag).toMatch(/^".+"$/)
    const again = await get('/client/features', server.tokens.client.development, { 'if-none-match': etag! })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    expect((await get('/client/features', server.tokens.client.development, { 'if-none-match': '"other"' })).status).toBe(200)
  })

  it('evaluates for browser SDKs on the frontend API: only enabled flags, with the variant', async () => {
    const response = await get('/frontend?userId=alice&appName=web', server.tokens.frontend.production)
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    const { toggles } = (await response.json()) as {
      toggles: Array<{ name: string; enabled: boolean; variant: { name: string; enabled: boolean } }>
    }
    expect(toggles.map((toggle) => toggle.name)).toEqual(['checkout.new-flow'])
    expect(['blue', 'green']).toContain(toggles[0]!.variant.name)
    const carol = await post('/frontend', server.tokens.frontend.production!, { context: { userId: 'carol', appName: 'ios' } })
    expect(((await carol.json()) as { toggles: unknown[] }).toggles).toEqual([])
    const preflight = await fetch(`${server.url}/frontend`, { method: 'OPTIONS' })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization')
  })

  it('keeps the yes/no counts SDKs report, per flag and environment', async () => {
    const token = server.tokens.client.development!
    expect(
      (
        await post('/client/register', token, {
          appName: 'shop',
          instanceId: 'i-1',
          sdkVersion: 'unleash-client-node:6.12.1',
          strategies: ['default'],
          started: new Date().toISOString(),
          interval: 1000,
        })
      ).status,
    ).toBe(202)
    const bucket = {
      start: new Date().toISOString(),
      stop: new Date().toISOString(),
      toggles: { 'orders.eager-loading': { yes: 3, no: 1, variants: {} } },
    }
    expect((await post('/client/metrics', token, { appName: 'shop', instanceId: 'i-1', bucket })).status).toBe(202)
    expect((await post('/client/metrics', token, { appName: 'shop', instanceId: 'i-1', bucket })).status).toBe(202)
    expect((await post('/client/metrics', token, { appName: 'shop' })).status).toBe(400)
    const metrics = server.metrics()
    expect(metrics.flags['orders.eager-loading']?.development).toMatchObject({ yes: 6, no: 2 })
    expect(metrics.applications.shop).toMatchObject({
      environment: 'development',
      instances: ['i-1'],
      sdkVersion: 'unleash-client-node:6.12.1',
    })
  })

  it('reloads when the file is replaced, and serves the new flags', async () => {
    const reloaded = nextReload()
    const temporary = `${project.file}.tmp`
    writeFileSync(temporary, SAMPLE_FLAGS.replace('enabled: true # on while we test it', 'enabled: false # off now'))
    renameSync(temporary, project.file)
    expect(await reloaded).toMatchObject({ ok: true, changed: true, flags: 2 })
    const { body } = await features()
    expect(body.features.find((feature) => feature.name === 'orders.eager-loading')?.enabled).toBe(false)
  })

  it('keeps serving the last good flags when an edit is invalid, and reports it with its line', async () => {
    const before = await features()
    const failed = nextReload()
    project.write(SAMPLE_FLAGS.replace('rollout: 10%   # start small', 'rollout: 140%'))
    const event = await failed
    expect(event.ok).toBe(false)
    expect(event.error?.message).toMatch(
      /flags\.yaml:18:22: flags\.orders\.eager-loading\.environments\.production\.strategies\[0\]\.rollout: rollout must be a whole percentage/,
    )
    expect(event.error?.exit).toBe(2)
    const after = await features()
    expect(after.etag).toBe(before.etag)
    expect(after.body).toEqual(before.body)

    const broken = nextReload()
    project.write('flags: [unclosed\n')
    expect((await broken).error?.message).toMatch(/flags\.yaml:\d+:\d+: invalid YAML/)
    expect((await features()).etag).toBe(before.etag)

    const fixed = nextReload()
    project.write(SAMPLE_FLAGS)
    expect(await fixed).toMatchObject({ ok: true, changed: true })
    expect((await features()).body.features.find((feature) => feature.name === 'orders.eager-loading')?.enabled).toBe(true)
  })

  it('writes the metrics to the state directory when it stops', async () => {
    await server.stop()
    const saved = JSON.parse(readFileSync(metricsFile, 'utf8')) as { flags: Record<string, Record<string, { yes: number; no: number }>> }
    expect(saved.flags['orders.eager-loading']?.development).toMatchObject({ yes: 6, no: 2 })
  })
})

describe('flags serve at start', () => {
  it('refuses to start on an invalid file, with the line (exit 2)', async () => {
    const project = tempProject('flags:\n  a:\n    type: nonsense\n')
    try {
      await expect(startFlagServer({ file: project.file, port: 0, watch: false })).rejects.toMatchObject({
        exit: 2,
        message: expect.stringMatching(/flags\.yaml:3:11: flags\.a\.type: unknown flag type "nonsense"/),
      })
    } finally {
      project.remove()
    }
  })

  it('keeps generated tokens in its tokens file and reuses them', async () => {
    const project = tempProject()
    const tokensFile = join(project.dir, '.opsctl', 'flags', 'tokens.json')
    try {
      const first = await startFlagServer({ file: project.file, port: 0, watch: false, tokensFile })
      const tokens = structuredClone(first.tokens)
      await first.stop()
      expect(Object.keys(tokens.client)).toEqual(['development', 'production'])
      expect(tokens.client.development).toMatch(/^\*:development\.[0-9a-f]{48}$/)
      const second = await startFlagServer({ file: project.file, port: 0, watch: false, tokensFile })
      expect(second.tokens).toEqual(tokens)
      await second.stop()
    } finally {
      project.remove()
    }
  })
})
