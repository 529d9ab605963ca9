/**
 * A rollout's world as users have it: reference-service instances (stable, canary with faults)
 * behind `opsctl router start` in a directory of its own, real autocannon driving traffic
 * through the router, and the deploy commands run as processes in that directory.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startServiceProcess, type ServiceProcess } from '../../src/demo/service-process.js'
import type { TestDatabase } from '../helpers/database.js'
import { makeTempDir } from '../helpers/temp.js'
import { cli, startRouterProcess, type RouterProcess } from '../traffic/cli.js'
import { runAutocannon, stopChild, type AutocannonResult } from '../traffic/support.js'

/** A cheap endpoint that goes through the service's fault injection (operational ones like /version do not). */
const TRAFFIC_PATH = '/users/1/orders'

export interface RolloutWorld {
  dir: string
  stable: ServiceProcess
  canary: ServiceProcess
  router: RouterProcess
  /** Per-backend stats from the router's admin API. */
  stats(): Promise<Array<{ backend: string; weight: number; requests: number; health: { up: boolean } }>>
  deploy(args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof cli>
  /** The journal's events of a kind family, oldest first. */
  journal(kind: string): Promise<Array<{ kind: string; data: Record<string, unknown>; links: Record<string, string> }>>
  close(): Promise<void>
}

export function startService(database: TestDatabase, version: string, env: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
  return startServiceProcess({ databaseUrl: database.url, port: 0, env: { LOG_LEVEL: 'warn', SERVICE_VERSION: version, ...env } })
}

/** stable and canary behind a fresh router at stable=100, canary=0, in a directory of their own. */
export async function startRolloutWorld(
  database: TestDatabase,
  options: { stable?: ServiceProcess; canaryEnv?: NodeJS.ProcessEnv } = {},
): Promise<RolloutWorld> {
  const dir = makeTempDir('opsctl-deploy-')
  const ownStable = !options.stable
  const [stable, canary] = await Promise.all([
    options.stable ?? startService(database, 'v1'),
    startService(database, 'v2', options.canaryEnv ?? {}),
  ])
  // A fresh process answers its first requests slower (cold JIT, empty pools) while stable is
  // warm: a judge rightly sees that tail. Deploys warm their new version up; so does the test.
  await runAutocannon(`${canary.url}${TRAFFIC_PATH}`, { connections: 4, seconds: 2 }).result.catch(() => undefined)
  const router = await startRouterProcess(dir, [
    '--backend',
    `stable=${stable.url}`,
    '--backend',
    `canary=${canary.url}`,
    '--weights',
    'stable=100,canary=0',
    '--port',
    '0',
    '--admin-port',
    '0',
  ])
  const token = readFileSync(join(dir, '.opsctl', 'router', 'token'), 'utf8').trim()
  return {
    dir,
    stable,
    canary,
    router,
    async stats() {
      const response = await fetch(`${router.listening.adminUrl}/v1/stats`, { headers: { authorization: `Bearer ${token}` } })
      return (await response.json()) as Awaited<ReturnType<RolloutWorld['stats']>>
    },
    deploy: (args, env = {}) => cli(dir, ['deploy', ...args], env),
    async journal(kind) {
      const result = await cli(dir, ['journal', '--kind', kind, '--json'])
      if (result.status !== 0) throw new Error(`opsctl journal failed: ${result.stderr}`)
      // one JSON document per line
      return result.stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Awaited<ReturnType<RolloutWorld['journal']>>[number])
    },
    async close() {
      await stopChild(router.child)
      await Promise.all([ownStable ? stable.stop() : undefined, canary.stop()])
    },
  }
}

/**
 * Traffic through the router for a while (real autocannon in a process of its own), at a fixed
 * rate well below what the machine can serve: saturated, the busier stable would answer faster
 * than a canary with a fifth of the traffic, and the judge would rightly see it.
 */
export function driveTraffic(
  world: RolloutWorld,
  seconds: number,
  rate = 200,
  path = TRAFFIC_PATH,
): { result: Promise<AutocannonResult>; stop(): void } {
  const run = runAutocannon(`${world.router.listening.url}${path}`, { connections: 10, seconds, rate })
  // Stopped early (stop()), autocannon exits without its report: a test that awaits the result sees it fail.
  run.result.catch(() => undefined)
  return { result: run.result, stop: () => run.child.kill('SIGINT') }
}
