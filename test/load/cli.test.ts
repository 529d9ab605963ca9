import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { startServerProcess } from './support.js'
import { makeTempDir } from '../helpers/temp.js'

// The commands as a user runs them, against a 20 ms server in its own process.

let server: { url: string; close(): Promise<void> }
const dir = makeTempDir('opsctl-load-cli-')

beforeAll(async () => {
  server = await startServerProcess({ delayMs: 20, errorEvery: 10 })
})

afterAll(async () => {
  await server?.close()
})

describe('opsctl load', () => {
  it('exits 1 when a threshold fails, naming it with its measured value', () => {
    const result = runCli(['load', `${server.url}/`, '-n', '60', '-c', '2', '--threshold', 'p50<5ms', '--threshold', 'error_rate<50%'])
    expect(result.status).toBe(1)
    expect(result.stdout).toMatch(/requests\s+60 in/)
    expect(result.stdout).toMatch(/status\s+200 × 54\s+500 × 6/)
    expect(result.stdout).toMatch(/✗ p50<5ms\s+p50 = [\d.]+ms \(limit < 5ms\)/)
    expect(result.stdout).toMatch(/✓ error_rate<50%\s+error_rate = 10% \(limit < 50%\)/)
    expect(result.stderr).toMatch(/Failed: 1 of 2 thresholds failed: p50<5ms \(p50 = [\d.]+ms/)
  })

  it('exits 4 when the open model cannot reach its rate, and still prints the JSON result and writes --out', () => {
    const out = join(dir, 'short.json')
    const result = runCli(['load', server.url, '--rate', '200', '-c', '1', '-d', '1500ms', '--json', '--out', out])
    expect(result.status).toBe(4)
    const printed = JSON.parse(result.stdout) as {
      summary: { outcome: string; valid: boolean }
      validity: { reasons: Array<{ code: string }> }
    }
    expect(printed.summary).toMatchObject({ outcome: 'invalid', valid: false })
    expect(printed.validity.reasons.map((reason) => reason.code)).toContain('rate-shortfall')
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(printed)
    expect(result.stderr).toMatch(/Invalid measurement: the open model achieved [\d.]+ rps of the 200\.0 rps asked for/)
    expect(result.stderr).toMatch(/Try: All 1 connections were busy/)
  })

  it('records each run as a load.run event in the ops journal', () => {
    const project = makeTempDir('opsctl-load-journal-')
    writeFileSync(join(project, 'opsctl.yaml'), 'service:\n  name: orders-api\n')
    expect(runCli(['load', `${server.url}/`, '-n', '20', '-c', '2'], { cwd: project }).status).toBe(0)
    const listed = runCli(['journal', '--kind', 'load', '--json'], { cwd: project })
    const events = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; subject: string; data: Record<string, unknown> })
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ kind: 'load.run', subject: 'orders-api', data: { requests: 20, outcome: 'passed', model: 'closed' } })
  })

  it('refuses a malformed threshold (exit 2) with its column', () => {
    const result = runCli(['load', server.url, '-n', '1', '--threshold', 'p99<25x0ms'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('Invalid threshold "p99<25x0ms" at column 7')
  })
})

describe('opsctl load run', () => {
  it('exits 2 on a bad scenario with the key path and the line', () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(
      file,
      `target: ${server.url}\nload:\n  rate: 10\nrequests:\n  - path: /users/{{id}}\n    variables:\n      id: { random: { min: 1, max: 5 } }\n    expect:\n      stauts: 200\n`,
    )
    const result = runCli(['load', 'run', file])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain(`${file}:9:7: unknown key "requests[0].expect.stauts" (did you mean "status"?)`)
  })

  it('runs a scenario with variables and checks, and takes thresholds from the file', () => {
    const file = join(dir, 'ok.yaml')
    writeFileSync(
      file,
      `name: smoke\ntarget: ${server.url}\nload: { connections: 2, requests: 40 }\nrequests:\n  - path: /users/{{id}}\n    variables:\n      id: { random: { min: 1, max: 5 } }\n    expect:\n      status: [200, 500]\n      body: { json: { path: $.ok, equals: true } }\nthresholds: [ "error_rate<=0%", "p99<5s" ]\n`,
    )
    const result = runCli(['load', 'run', file, '--json'])
    expect(result.status).toBe(0)
    const printed = JSON.parse(result.stdout) as { summary: Record<string, unknown>; thresholds: Array<{ passed: boolean }> }
    expect(printed.summary).toMatchObject({
      name: 'smoke',
      requests: 40,
      errorRate: 0,
      outcome: 'passed',
      thresholds: { passed: 2, failed: 0 },
    })
  })
})
