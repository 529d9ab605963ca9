import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { listeningPort } from '../../src/demo/service-process.js'
import { nextSteps } from '../../src/demo/next-steps.js'
import { pickRequest } from '../../src/demo/traffic.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { makeTempDir } from '../helpers/temp.js'

const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))
const databases: TestDatabase[] = []
const children: ChildProcess[] = []
afterAll(async () => {
  // A failed assertion must not leave a demo (and its service) running: Ctrl-C it, as a user would.
  for (const child of children.filter((running) => running.exitCode === null)) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGINT')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))])
    if (child.exitCode === null) child.kill('SIGKILL')
  }
  for (const database of databases) await database.drop()
})

interface RunningDemo {
  child: ChildProcess
  serviceUrl: string
  stdout: () => string
  exit: Promise<number | null>
}

/** Starts `opsctl demo` like a user would and waits for the service URL it prints. */
async function startDemo(env: NodeJS.ProcessEnv, options: { withFlags?: boolean } = {}): Promise<RunningDemo> {
  const dir = makeTempDir('opsctl-demo-')
  writeFileSync(join(dir, 'opsctl.yaml'), '')
  if (options.withFlags) copyFileSync(fileURLToPath(new URL('../../flags.yaml', import.meta.url)), join(dir, 'flags.yaml'))
  const child = spawn(process.execPath, [DEV_BIN, 'demo', '--port', '0', '--scale', '0.02', '--traffic-rate', '20'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + 90_000
  while (!/Reference service\s+(http:\S+)/.test(stdout)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`demo did not start:\n${stdout}\n${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { child, serviceUrl: /Reference service\s+(http:\S+)/.exec(stdout)![1]!, stdout: () => stdout, exit }
}

async function isListening(url: string): Promise<boolean> {
  return fetch(`${url}/healthz`).then(
    () => true,
    () => false,
  )
}

async function checkServiceAndStop(demo: RunningDemo): Promise<void> {
  expect((await fetch(`${demo.serviceUrl}/healthz`)).status).toBe(200)
  const orders = (await (await fetch(`${demo.serviceUrl}/users/1/orders`)).json()) as { orders: Array<{ items: unknown[] }> }
  expect(orders.orders.length).toBeGreaterThan(0)
  expect(orders.orders.every((order) => order.items.length > 0)).toBe(true)
  expect(await (await fetch(`${demo.serviceUrl}/metrics`)).text()).toMatch(
    /http_request_duration_seconds_bucket\{.*route="\/users\/:id\/orders"/,
  )

  demo.child.kill('SIGINT')
  expect(await demo.exit).toBe(130)
  expect(demo.stdout()).toMatch(/Reference service exited with code 0\. Stopped cleanly\./)
  // The service's live query hook saw the N+1 behind /users/:id/orders (flag orders.eager-loading is off).
  expect(demo.stdout()).toMatch(/N\+1 queries the live query hook saw/)
  expect(demo.stdout()).toContain('FROM items WHERE order_id = $1')
  // The call site is the service's own line, source-mapped, not the hook's wrapper.
  expect(demo.stdout()).toMatch(/call site\s+reference-service\/src\/store\/orders\.ts:\d+:\d+ \(listOrdersWithItems\)/)
  expect(await isListening(demo.serviceUrl)).toBe(false)
}

describe('opsctl demo', () => {
  it('comes up on the embedded database, with flags.yaml served over the Unleash API, and Ctrl-C stops everything cleanly', async () => {
    const demo = await startDemo({}, { withFlags: true })
    expect(demo.stdout()).toMatch(/Database\s+embedded PGlite/)
    const flagsUrl = /Flags\s+(http:\S+)/.exec(demo.stdout())?.[1]
    expect(flagsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/)
    expect((await fetch(`${flagsUrl}/client/features`)).status).toBe(401)
    await checkServiceAndStop(demo)
  })

  it('comes up on the PostgreSQL server at DATABASE_URL', async () => {
    const database = await createTestDatabase('demo')
    databases.push(database)
    const demo = await startDemo({ DATABASE_URL: database.url })
    expect(demo.stdout()).toMatch(database.kind === 'server' ? /Database\s+PostgreSQL at 127\.0\.0\.1:5432\// : /Database\s+embedded/)
    await checkServiceAndStop(demo)
  })
})

describe('demo parts', () => {
  it('recognises only the service\'s pino "listening" line', () => {
    expect(listeningPort('{"level":30,"port":3000,"url":"http://127.0.0.1:3000","msg":"listening"}')).toBe(3000)
    expect(listeningPort('{"msg":"Server listening at http://127.0.0.1:3000"}')).toBeUndefined()
    expect(listeningPort('listening')).toBeUndefined()
    expect(listeningPort('{not json')).toBeUndefined()
  })

  it('mixes mostly order lookups with searches, writes and a rare report, deterministically', () => {
    const paths = Array.from({ length: 100 }, (_, n) => pickRequest(n, 50).path.split('?')[0]!.replace(/\d+/g, ':id'))
    const counts = Object.fromEntries([...new Set(paths)].map((path) => [path, paths.filter((p) => p === path).length]))
    expect(counts).toEqual({ '/users/:id/orders': 80, '/items': 10, '/orders': 5, '/reports/revenue': 5 })
    expect(pickRequest(7, 50)).toEqual(pickRequest(7, 50))
  })

  it('suggests only commands this build has', () => {
    const steps = nextSteps('http://127.0.0.1:3000', 'postgres://x@127.0.0.1:1/db', '.opsctl/demo/queries.jsonl', ['config:show'])
    expect(steps.some((step) => step.startsWith('opsctl config show'))).toBe(true)
    expect(steps.some((step) => step.includes('opsctl load'))).toBe(false)
  })
})
