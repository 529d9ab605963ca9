import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExitCode, OpsError } from '../../src/core/index.js'
import { loadScenarioFile } from '../../src/load/index.js'
import { parseScenarioText } from '../../src/load/scenario-file.js'
import { type Scenario } from '../../src/load/scenario.js'
import { buildPlan, quickScenario } from '../../src/load/build-plan.js'
import { renderTemplate } from '../../src/load/template.js'
import { type Target } from '../../src/load/plan.js'
import { makeTempDir } from '../helpers/temp.js'

function refusal(text: string): OpsError {
  try {
    parseScenarioText(text, 'load.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError)
    expect((error as OpsError).exit).toBe(ExitCode.BadInput)
    return error as OpsError
  }
  throw new Error('expected the scenario to be refused')
}

const target: Target = {
  url: 'http://127.0.0.1:3000',
  protocol: 'http:',
  host: '127.0.0.1:3000',
  address: '127.0.0.1',
  port: 3000,
  basePath: '',
}

const VALID = `name: orders
target: http://127.0.0.1:3000
seed: 3
load:
  rate: 200
  duration: 30s
  warmup: 5s
  connections: 40
requests:
  - name: list orders
    path: /users/{{userId}}/orders
    weight: 4
    headers:
      accept: application/json
    variables:
      userId: { random: { min: 1, max: 50 } }
    expect:
      status: 200
      body:
        json: { path: $.userId, equals: "{{userId}}" }
  - name: create order
    method: post
    path: /orders
    body:
      userId: "{{n}}"
      items: [{ productId: 1, quantity: 2 }]
    variables:
      n: { counter: { start: 10 } }
    expect:
      status: [201, 422]
thresholds:
  - p99<250ms
  - "error_rate<1%"
`

describe('scenario files', () => {
  it('reads a scenario into requests, variables, expectations and thresholds', () => {
    const scenario = parseScenarioText(VALID)
    expect(scenario.name).toBe('orders')
    expect(scenario.load).toEqual({ rate: 200, durationMs: 30_000, warmupMs: 5000, connections: 40, timeoutMs: 10_000 })
    expect(scenario.specs.map((spec) => [spec.name, spec.method, spec.weight])).toEqual([
      ['list orders', 'GET', 4],
      ['create order', 'POST', 1],
    ])
    const [list, create] = scenario.specs
    expect(renderTemplate(list!.path, { userId: 9 })).toBe('/users/9/orders')
    expect(list!.variables.userId).toEqual({ kind: 'random', min: 1, max: 50 })
    expect(list!.expect).toMatchObject({ status: [200], body: { json: { path: ['userId'], equals: '{{userId}}' } } })
    expect(JSON.parse(renderTemplate(create!.body!, { n: 11 }))).toEqual({ userId: 11, items: [{ productId: 1, quantity: 2 }] })
    expect(create!.headers.map((header) => header.name)).toContain('content-type')
    expect(create!.expect.status).toEqual([201, 422])
    expect(scenario.thresholds.map((threshold) => threshold.source)).toEqual(['p99<250ms', 'error_rate<1%'])
  })

  it('becomes an open-model plan with the warm-up inside the schedule', () => {
    const plan = buildPlan(parseScenarioText(VALID), target, {}, { cores: 2 })
    expect(plan.model).toBe('open')
    expect(plan.arrival).toEqual({ startRate: 200, stages: [{ durationMs: 35_000, target: 200 }] })
    expect(plan.durationMs).toBe(30_000)
    expect(plan.workers).toBe(0)
    expect(plan.connections).toBe(40)
  })

  it('refuses an unknown key with its key path, line and a suggestion', () => {
    const error = refusal('target: http://127.0.0.1:3000\nrequests:\n  - path: /a\n    wieght: 2\n')
    expect(error.message).toBe('load.yaml:4:5: unknown key "requests[0].wieght" (did you mean "weight"?)')
  })

  it('refuses an unknown key deep inside a variable', () => {
    const error = refusal('requests:\n  - path: /u/{{id}}\n    variables:\n      id:\n        random: { min: 1, mx: 5 }\n')
    expect(error.message.split('\n')).toEqual([
      'load.yaml:5:17: requests[0].variables.id.random.max: missing (expected number)',
      'load.yaml:5:27: unknown key "requests[0].variables.id.random.mx" (did you mean "max"?)',
    ])
  })

  it('refuses a wrong type at the line and column of the value', () => {
    expect(refusal('load:\n  connections: ten\nrequests:\n  - path: /\n').message).toMatch(
      /^load\.yaml:2:16: load\.connections: .*expected number/,
    )
    expect(refusal('load:\n  duration: 10 parsecs\nrequests:\n  - path: /\n').message).toMatch(
      /^load\.yaml:2:13: load\.duration: "10 parsecs" is not a duration/,
    )
    expect(refusal('requests:\n  - path: /\n    method: FETCH\n').message).toMatch(
      /^load\.yaml:3:13: requests\[0\]\.method: method must be one of GET/,
    )
    expect(refusal('requests:\n  - path: users\n').message).toMatch(/^load\.yaml:2:11: requests\[0\]\.path: a path starts with "\/"/)
  })

  it('points inside a path at an unknown variable', () => {
    const error = refusal('requests:\n  - path: /users/{{userid}}/orders\n    variables:\n      userId: { counter: {} }\n')
    expect(error.message).toBe('load.yaml:2:20: requests[0].path: unknown variable "userid"; this request defines userId')
  })

  it('points inside a quoted threshold at the character that is wrong', () => {
    const error = refusal('requests:\n  - path: /\nthresholds:\n  - p99<250ms\n  - "p95<25x0ms"\n')
    expect(error.message).toBe(
      'load.yaml:5:12: thresholds[1]: invalid threshold "p95<25x0ms": "x" is not a duration unit; use us, ms, s or m',
    )
  })

  it('reports every mistake the schema lets through, each on its line', () => {
    const error = refusal('load:\n  rate: 10\n  stages: [{ duration: 5s, target: 10 }]\nrequests:\n  - path: /{{a}}\n  - path: /{{b}}\n')
    expect(error.message.split('\n')).toEqual([
      'load.yaml:3:11: load.stages: use either rate (a constant arrival rate) or stages (ramping), not both',
      'load.yaml:5:14: requests[0].path: unknown variable "a"; define it under variables',
      'load.yaml:6:14: requests[1].path: unknown variable "b"; define it under variables',
    ])
  })

  it('refuses truncated and malformed YAML with its position', () => {
    expect(refusal('requests:\n  - path: "/a\n').message).toMatch(/^load\.yaml:3:1: invalid YAML: Missing closing "quote/)
    expect(refusal('requests:\n  - path: /a\n   method: GET\n').message).toMatch(/^load\.yaml:3:\d+: invalid YAML/)
    expect(refusal('requests:\n\t- path: /a\n').message).toMatch(/^load\.yaml:2:\d+: invalid YAML/)
    expect(refusal('requests: [{ path: /a }\n').message).toMatch(/invalid YAML/)
    expect(refusal('requests:\n  - path: /a\nrequests: []\n').message).toMatch(/^load\.yaml:3:1: invalid YAML/)
  })

  it('refuses an empty file, a list, no requests and alias bombs', () => {
    expect(refusal('').message).toMatch(/the scenario is empty/)
    expect(refusal('- path: /\n').message).toMatch(/^load\.yaml:1:1: a scenario is a mapping/)
    expect(refusal('target: http://127.0.0.1:3000\n').message).toMatch(/requests: .*expected array/)
    expect(refusal('requests: []\n').message).toMatch(/at least one request/)
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
      'requests: [{ path: /, body: *h }]',
    ].join('\n')
    expect(refusal(bomb).message).toMatch(/cannot read the scenario/)
  })

  it('refuses a variable that is two kinds at once or a range upside down', () => {
    expect(refusal('requests:\n  - path: /{{x}}\n    variables:\n      x: { counter: {}, values: [1] }\n').message).toMatch(
      /^load\.yaml:4:10: requests\[0\]\.variables\.x: a variable is exactly one of/,
    )
    expect(refusal('requests:\n  - path: /{{x}}\n    variables:\n      x: { random: { min: 9, max: 1 } }\n').message).toMatch(
      /min \(9\) is above max \(1\)/,
    )
  })

  it('refuses a target that is not an http URL', () => {
    expect(refusal('target: ftp://127.0.0.1\nrequests:\n  - path: /\n').message).toMatch(/^load\.yaml:1:9: target: only http/)
  })
})

describe('CSV variables', () => {
  function scenarioDir(files: Record<string, string>): string {
    const dir = makeTempDir('opsctl-scenario-')
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
    return dir
  }

  it('reads a column of a CSV file next to the scenario', () => {
    const dir = scenarioDir({
      'skus.csv': 'id,sku\n1,SKU-00001\n2,"SKU-00002"\n',
      'load.yaml':
        'requests:\n  - path: /items?sku={{sku}}\n    variables:\n      sku: { csv: { file: skus.csv, column: sku }, order: random }\n',
    })
    const scenario: Scenario = loadScenarioFile(join(dir, 'load.yaml'))
    expect(scenario.specs[0]!.variables.sku).toEqual({
      kind: 'values',
      values: ['SKU-00001', 'SKU-00002'],
      order: 'random',
      source: 'skus.csv',
    })
  })

  it('names a missing file or column at the line that names it', () => {
    const dir = scenarioDir({
      'skus.csv': 'id,sku\n1,A\n',
      'missing.yaml': 'requests:\n  - path: /{{s}}\n    variables:\n      s:\n        csv: { file: nope.csv }\n',
      'column.yaml': 'requests:\n  - path: /{{s}}\n    variables:\n      s:\n        csv: { file: skus.csv, column: name }\n',
    })
    expect(() => loadScenarioFile(join(dir, 'missing.yaml'))).toThrow(
      /missing\.yaml:5:22: requests\[0\]\.variables\.s\.csv\.file: cannot read nope\.csv: ENOENT$/,
    )
    expect(() => loadScenarioFile(join(dir, 'column.yaml'))).toThrow(
      /column\.yaml:5:40: .*skus\.csv has no column "name"; its columns are id, sku/,
    )
  })
})

describe('the quick form', () => {
  it('is a one-request closed-model scenario unless given a rate', () => {
    const scenario = quickScenario({ url: 'http://127.0.0.1:3000/users/1/orders?x=1', method: 'GET' })
    const closed = buildPlan(scenario, target, { connections: 4, requests: 100 }, { cores: 2 })
    expect(closed).toMatchObject({ model: 'closed', connections: 4, requests: 100, workers: 0 })
    expect(closed.durationMs).toBeUndefined()
    expect(renderTemplate(closed.specs[0]!.path, {})).toBe('/users/1/orders?x=1')
    const open = buildPlan(scenario, target, { rate: 500, durationMs: 20_000 }, { cores: 2 })
    expect(open).toMatchObject({ model: 'open', durationMs: 20_000, connections: 50 })
  })

  it('uses worker threads only when the rate needs them and the cores allow', () => {
    const scenario = quickScenario({ url: 'http://127.0.0.1:3000/' })
    expect(buildPlan(scenario, target, { rate: 50_000 }, { cores: 2 }).workers).toBe(0)
    const wide = buildPlan(scenario, target, { rate: 50_000 }, { cores: 8 })
    expect(wide.workers).toBe(5)
    expect(wide.connections % 5).toBe(0)
    expect(buildPlan(scenario, target, { rate: 100, workers: 2, connections: 3 }, { cores: 2 }).connections).toBe(4)
  })
})
