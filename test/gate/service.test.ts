import { describe, expect, it } from 'vitest'
import { OpsError } from '../../src/core/index.js'
import { startService, type ServiceSpec } from '../../src/gate/service.js'
import { waitFor } from '../helpers/wait.js'
import { freePort, isRunning } from './support.js'

const spec = (command: ServiceSpec['command'], port: number, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({
  command,
  cwd: process.cwd(),
  env: {},
  readyUrl: `http://127.0.0.1:${port}/ready`,
  startTimeoutMs: 20_000,
  stopTimeoutMs: 3_000,
  ...extra,
})

const server = (port: number) =>
  `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('up on ${port}'))`

describe('the service under test', () => {
  it('is ready once its readiness URL answers, and stopping it stops its whole process group', async () => {
    const port = await freePort()
    // a shell that leaves a grandchild behind: only a group kill stops that one
    const service = await startService(spec(`sleep 300 & echo "sleeper=$!"; exec node -e "${server(port)}"`, port))
    const sleeper = Number(/sleeper=(\d+)/.exec(service.outputTail().join('\n'))![1])
    expect(isRunning(sleeper)).toBe(true)
    expect(isRunning(service.pid)).toBe(true)
    const exit = await service.stop()
    expect(exit.stoppedByGate).toBe(true)
    // The signal is sent; how soon a busy machine delivers it is not what this test is about.
    await waitFor(() => !isRunning(service.pid) && !isRunning(sleeper), 10_000, 'the service and its grandchild to exit')
  })

  it('that exits at once is an environment error (exit 3) with the tail of its output', async () => {
    const port = await freePort()
    const failure = await startService(spec(['sh', '-c', 'echo starting; echo "cannot connect to the database" >&2; exit 7'], port)).catch(
      (error: unknown) => error,
    )
    expect(failure).toBeInstanceOf(OpsError)
    expect((failure as OpsError).exit).toBe(3)
    expect((failure as OpsError).message).toMatch(
      /exited with code 7 before it was ready\. Its last output:\n {2}starting\n {2}cannot connect to the database/,
    )
  })

  it('that never becomes ready is stopped after the start timeout (exit 3)', async () => {
    const port = await freePort()
    const failure = (await startService(spec(['sleep', '30'], port, { startTimeoutMs: 600 })).catch((error: unknown) => error)) as OpsError
    expect(failure.exit).toBe(3)
    expect(failure.message).toMatch(/was not ready within 0\.6s \(http:\/\/127\.0\.0\.1:\d+\/ready: ECONNREFUSED\) and printed nothing/)
  })

  it('that cannot be found is an environment error naming the command', async () => {
    const port = await freePort()
    const failure = (await startService(spec(['/no/such/binary', '--flag'], port)).catch((error: unknown) => error)) as OpsError
    expect(failure.exit).toBe(3)
    expect(failure.message).toMatch(/\/no\/such\/binary/)
  })

  it('stops waiting when the gate is interrupted, and leaves nothing running', async () => {
    const port = await freePort()
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 300)
    const failure = (await startService(spec(['sleep', '30'], port), { signal: controller.signal }).catch(
      (error: unknown) => error,
    )) as Error
    expect(failure.name).toBe('AbortError')
  })
})
