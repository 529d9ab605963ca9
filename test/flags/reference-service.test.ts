import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../reference-service/src/index.js'
import { unleashFlagProvider, type FlagProvider } from '../../reference-service/src/flags.js'
import { startFlagServer, type FlagServer } from '../../src/flags/server.js'
import { type JournalEvent } from '../../src/journal/index.js'
import { openJournalAt } from '../../src/journal/open.js'
import { runCli } from '../helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { recordingPool, seededPool, startServerProcess } from '../reference-service/support.js'
import { tempProject } from './fixtures.js'

/**
 * The reference service's unleash-client against `opsctl flags serve`: flipping
 * orders.eager-loading with the CLI switches the service between one batched items query and
 * one items query per order (the N+1). Which path ran is read off the statements the pool sent.
 */
const FLAGS = `environments: [development, production]
flags:
  orders.eager-loading:
    type: release
    description: Batch the items query.
    owner: team-orders
    created: 2026-11-25
    environments:
      development:
        enabled: true # flipped by the test
`

let database: TestDatabase
let seeded: pg.Pool
const project = tempProject(FLAGS)
let server: FlagServer

beforeAll(async () => {
  database = await createTestDatabase('flags_refsvc')
  seeded = await seededPool(database.url)
  server = await startFlagServer({ file: project.file, port: 0, metricsFile: join(project.dir, '.opsctl', 'flags', 'metrics.json') })
})

afterAll(async () => {
  await server?.stop()
  await seeded?.end()
  await database?.drop()
  project.remove()
})

/** A user with several orders, so that N+1 and batched differ. */
async function userWithOrders(): Promise<{ userId: number; orders: number }> {
  const { rows } = await seeded.query<{ user_id: number; orders: number }>(
    'SELECT user_id, count(*)::int AS orders FROM orders GROUP BY user_id HAVING count(*) >= 3 ORDER BY user_id LIMIT 1',
  )
  return { userId: rows[0]!.user_id, orders: rows[0]!.orders }
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`gave up waiting: ${what}`)
}

describe('the reference service with unleash-client against flags serve', () => {
  let provider: FlagProvider
  let app: FastifyInstance
  let recording: ReturnType<typeof recordingPool>

  beforeAll(async () => {
    provider = await unleashFlagProvider({
      url: server.url,
      token: server.tokens.client.development!,
      refreshIntervalMs: 200,
      metricsIntervalMs: 60_000,
    })
    recording = recordingPool(database.url)
    app = buildApp({ pool: recording.pool, flags: provider, version: 'test' })
  })
  afterAll(async () => {
    await app?.close()
    await recording?.pool.end()
    await provider?.close?.()
  })

  const itemsQueries = async (userId: number) => {
    recording.statements.length = 0
    const response = await app.inject(`/users/${userId}/orders`)
    expect(response.statusCode).toBe(200)
    return {
      batched: recording.statements.filter((sql) => /FROM items WHERE order_id = ANY/i.test(sql)).length,
      perOrder: recording.statements.filter((sql) => /FROM items WHERE order_id = \$1/i.test(sql)).length,
    }
  }

  it('sees opsctl flags disable within its refresh interval, and the N+1 path comes back', async () => {
    const { userId, orders } = await userWithOrders()
    expect(provider.isEnabled('orders.eager-loading', { userId: String(userId) })).toBe(true)
    expect(await itemsQueries(userId)).toEqual({ batched: 1, perOrder: 0 })

    const cli = runCli(
      ['flags', 'disable', 'orders.eager-loading', '--env', 'development', '--file', project.file, '--reason', 'verify the N+1 path'],
      { cwd: project.dir },
    )
    expect(cli.stderr).toBe('')
    expect(cli.status).toBe(0)
    expect(cli.stdout).toContain('orders.eager-loading: disabled in development')

    await until(() => !provider.isEnabled('orders.eager-loading', { userId: String(userId) }), 'the SDK to see the flag off')
    expect(await itemsQueries(userId)).toEqual({ batched: 0, perOrder: orders })

    const enable = runCli(['flags', 'enable', 'orders.eager-loading', '--env', 'development', '--file', project.file], { cwd: project.dir })
    expect(enable.status).toBe(0)
    await until(() => provider.isEnabled('orders.eager-loading', { userId: String(userId) }), 'the SDK to see the flag on again')
    expect(await itemsQueries(userId)).toEqual({ batched: 1, perOrder: 0 })
  })

  it('journaled both changes: who, what, before and after, why', async () => {
    const journal = await openJournalAt(join(project.dir, '.opsctl', 'journal'), { durable: true, segmentSize: 64 * 1024 * 1024 })
    const events: JournalEvent[] = []
    try {
      for await (const event of journal.read()) events.push(event)
    } finally {
      await journal.close()
    }
    expect(events.map((event) => [event.kind, event.subject, event.data])).toEqual([
      [
        'flag.changed',
        'orders.eager-loading',
        {
          flag: 'orders.eager-loading',
          change: 'disabled',
          environment: 'development',
          from: true,
          to: false,
          reason: 'verify the N+1 path',
          source: 'flags.yaml',
        },
      ],
      [
        'flag.changed',
        'orders.eager-loading',
        { flag: 'orders.eager-loading', change: 'enabled', environment: 'development', from: false, to: true, source: 'flags.yaml' },
      ],
    ])
    expect(events[0]!.actor).not.toBe('')
  })
})

describe('the reference service process with UNLEASH_URL', () => {
  it('evaluates through flags serve, registers, and sends its counts before it exits', async () => {
    const { userId } = await userWithOrders()
    const child = await startServerProcess({
      DATABASE_URL: database.url,
      UNLEASH_URL: server.url,
      UNLEASH_API_TOKEN: server.tokens.client.development!,
      UNLEASH_REFRESH_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
    })
    try {
      expect((await fetch(`${child.url}/users/${userId}/orders`)).status).toBe(200)
      await until(() => server.metrics().applications['reference-service'] !== undefined, 'the service to register')
    } finally {
      child.child.kill('SIGTERM')
    }
    expect((await child.closed).code).toBe(0)
    const counts = server.metrics().flags['orders.eager-loading']?.development
    expect((counts?.yes ?? 0) + (counts?.no ?? 0)).toBeGreaterThanOrEqual(1)
    expect(child.logs.filter((entry) => String(entry.msg ?? '').startsWith('unleash:'))).toEqual([])
  })

  it('refuses UNLEASH_URL without UNLEASH_API_TOKEN (exit 2)', async () => {
    await expect(startServerProcess({ DATABASE_URL: database.url, UNLEASH_URL: server.url, LOG_LEVEL: 'silent' })).rejects.toThrow(
      /exited with 2|UNLEASH_API_TOKEN/,
    )
  })
})
