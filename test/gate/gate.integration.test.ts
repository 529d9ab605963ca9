import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate, seed } from '../../reference-service/src/index.js'
import type { GateReport } from '../../src/gate/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { makeTempDir } from '../helpers/temp.js'
import { freePort, processesMatching, REFERENCE_COMMAND, ROOT, runOpsctl } from './support.js'

// `opsctl gate` against the real reference service on PostgreSQL (seed scale 0.05: 250 users,
// 1,000 orders, 5,000 items), started and stopped by the gate itself. Runs are short (seconds)
// and the load check's tolerances wide: this proves the gate's plumbing and verdicts; the
// A/A and A/B error rates of the default rules are measured in bench/gate.ts.

let database: TestDatabase
let pool: pg.Pool
let heavyUsers: number[]

beforeAll(async () => {
  database = await createTestDatabase('gate')
  pool = new pg.Pool({ connectionString: database.url, max: 2 })
  await migrate(pool)
  await seed(pool, { scale: 0.05 })
  // users with enough orders for one items query per order to be an N+1 (5 repeats)
  const { rows } = await pool.query<{ user_id: number }>(
    'SELECT user_id FROM orders GROUP BY user_id HAVING count(*) >= 6 ORDER BY user_id LIMIT 3',
  )
  heavyUsers = rows.map((row) => row.user_id)
}, 120_000)

afterAll(async () => {
  await pool?.end()
  await database?.drop()
})

interface Setup {
  dir: string
  port: number
  marker: string
}

async function project(checks: Record<string, unknown>, env: Record<string, string> = {}, command?: unknown): Promise<Setup> {
  const dir = makeTempDir('opsctl-gate-')
  const port = await freePort()
  const marker = `--opsctl-gate-test-${randomBytes(4).toString('hex')}`
  // 40 connections: 20 rps of answers slowed by 30 ms (and by a loaded machine) never run short, which would be an invalid run
  writeFileSync(
    join(dir, 'orders.yaml'),
    `name: orders\ntarget: http://127.0.0.1:${port}\nload: { rate: 20, duration: 2s, warmup: 1s, connections: 40 }\nrequests:\n  - path: /users/{{userId}}/orders\n    variables:\n      userId: { random: { min: 1, max: 250 } }\n`,
  )
  writeConfig(dir, port, marker, checks, env, command)
  return { dir, port, marker }
}

function writeConfig(
  dir: string,
  port: number,
  marker: string,
  checks: Record<string, unknown>,
  env: Record<string, string>,
  command?: unknown,
): void {
  const config = {
    database: { url: database.url },
    journal: { dir: join(dir, 'journal') },
    gate: {
      service: {
        command: command ?? [...REFERENCE_COMMAND, marker],
        cwd: ROOT,
        env: { DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', OPSCTL_FLAGS: '', ...env },
        readyUrl: `http://127.0.0.1:${port}/readyz`,
        startTimeout: '60s',
      },
      baselines: 'baselines',
      out: 'out',
      checks,
    },
  }
  // JSON is YAML
  writeFileSync(join(dir, 'opsctl.yaml'), JSON.stringify(config, null, 2))
}

const gate = (setup: Setup, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  runOpsctl(['gate', ...args], { cwd: setup.dir, env: { DATABASE_URL: database.url, ...env }, timeoutMs: 240_000 })

const parseReport = (stdout: string) => JSON.parse(stdout) as GateReport

describe('the N+1 budget', () => {
  const checks = () => ({ 'orders-n-plus-one': { type: 'nplusone', max: 0, requests: heavyUsers.map((id) => `/users/${id}/orders`) } })

  it('fails with orders.eager-loading off, naming the call site, with GitHub annotations and step summary', async () => {
    const setup = await project(checks())
    const summary = join(setup.dir, 'step-summary.md')
    const result = await gate(setup, ['--junit', 'gate.xml', '--markdown', 'gate.md'], {
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: summary,
    })
    expect(result.status, result.stderr).toBe(1)
    expect(result.stdout).toMatch(/orders-n-plus-one\s+nplusone\s+1 N\+1 pattern .*\s+at most 0 N\+1 patterns\s+Failed/)
    expect(result.stdout).toMatch(/reference-service\/src\/store\/orders\.ts:\d+ N\+1 [0-9a-f]{16}: SELECT .* FROM items/)
    expect(result.stdout).toMatch(
      /^::error file=reference-service\/src\/store\/orders\.ts,line=\d+,title=opsctl gate%3A orders-n-plus-one \(fail\)::N\+1 /m,
    )
    expect(readFileSync(summary, 'utf8')).toMatch(/\| orders-n-plus-one \| nplusone \| 1 N\+1 pattern/)
    expect(readFileSync(join(setup.dir, 'gate.xml'), 'utf8')).toMatch(/<failure message="orders-n-plus-one: 1 N\+1 pattern, budget 0"/)
    expect(result.stderr).toMatch(/Failed: orders-n-plus-one: 1 N\+1 pattern, budget 0/)
    expect(readFileSync(join(setup.dir, 'journal', readJournalFile(setup.dir)), 'utf8')).toMatch(/"kind":"gate\.verdict".*"verdict":"fail"/)
    expect(processesMatching(setup.marker)).toEqual([])
  }, 240_000)

  it('passes with orders.eager-loading on', async () => {
    const setup = await project(checks(), { OPSCTL_FLAGS: 'orders.eager-loading' })
    const result = await gate(setup, ['--json'])
    expect(result.status, result.stderr).toBe(0)
    const report = parseReport(result.stdout)
    expect(report.status).toBe('pass')
    expect(report.checks[0]!.measured).toMatch(/^0 N\+1 patterns in \d+ statements \(live hook\)$/)
  }, 240_000)
})

function readJournalFile(dir: string): string {
  const journal = join(dir, 'journal')
  return (existsSync(journal) ? readdirSync(journal) : []).find((file) => file.endsWith('.jsonl')) ?? 'missing'
}

describe('the plan check', () => {
  const checks = {
    'item-search-plan': {
      type: 'explain',
      statements: { 'by-sku': { sql: 'SELECT * FROM items WHERE sku = $1', params: ['SKU-00042'] } },
      forbid: { nodes: [{ type: 'Seq Scan', relation: 'items', minRows: 1000 }] },
      diff: false,
    },
  }

  it('fails the unindexed item search on "no Seq Scan on items", and passes once the index exists', async () => {
    const setup = await project(checks)
    const failing = await gate(setup)
    expect(failing.status, failing.stderr).toBe(1)
    expect(failing.stdout).toMatch(
      /item-search-plan\/by-sku: plan node #\d+ Seq Scan on items reads 5,000 rows, filter .*sku.* \(forbidden: Seq Scan on items from 1,000 rows\)/,
    )
    await pool.query('CREATE INDEX gate_test_items_sku ON items (sku)')
    try {
      await pool.query('ANALYZE items')
      const passing = await gate(setup, ['--json'])
      expect(passing.status, passing.stderr).toBe(0)
      expect(parseReport(passing.stdout).checks[0]!.status).toBe('pass')
    } finally {
      await pool.query('DROP INDEX gate_test_items_sku')
    }
  }, 240_000)
})

describe('the plan diff against the stored baseline plan', () => {
  const checks = {
    'item-plan': { type: 'explain', statements: { 'by-sku': { sql: 'SELECT * FROM items WHERE sku = $1', params: ['SKU-00042'] } } },
  }

  it('passes the plan it was taken from, and fails once the index it used is gone, with the plan diff as a file', async () => {
    const setup = await project(checks)
    await pool.query('CREATE INDEX gate_test_items_sku_2 ON items (sku)')
    let dropped = false
    try {
      await pool.query('ANALYZE items')
      const update = await gate(setup, ['--update-baseline'])
      expect(update.status, update.stderr).toBe(0)
      const stored = JSON.parse(readFileSync(join(setup.dir, 'baselines', 'item-plan.by-sku.plan.json'), 'utf8')) as Array<{
        Plan: unknown
      }>
      expect(JSON.stringify(stored[0]!.Plan)).toMatch(/gate_test_items_sku_2/)
      expect((await gate(setup)).status).toBe(0)

      await pool.query('DROP INDEX gate_test_items_sku_2')
      dropped = true
      const regressed = await gate(setup, ['--markdown', 'gate.md'])
      expect(regressed.status, regressed.stderr).toBe(1)
      expect(regressed.stdout).toMatch(/item-plan\/by-sku: plan regression against the baseline: .*cost/)
      expect(readFileSync(join(setup.dir, 'out', 'item-plan.by-sku.plan-diff.md'), 'utf8')).toMatch(/Plan diff/)
      expect(readFileSync(join(setup.dir, 'gate.md'), 'utf8')).toMatch(/\[plan diff by-sku\]\(<out\/item-plan\.by-sku\.plan-diff\.md>\)/)
    } finally {
      if (!dropped) await pool.query('DROP INDEX gate_test_items_sku_2')
    }
  }, 240_000)
})

describe('the load regression check', () => {
  const checks = {
    'orders-latency': {
      type: 'load',
      scenario: 'orders.yaml',
      thresholds: ['error_rate<5%'],
      // wide tolerances: on a shared CI machine only the 30 ms fault must stand out; 5 runs a side,
      // so that one run slowed by the machine cannot hide it (3+3 runs could only be "inconclusive")
      regression: { runs: 5, metrics: ['p50'], tolerance: '50%', maxSpread: '300%', maxCpuPressure: '100%' },
    },
  }

  it('passes an A/A comparison and fails FAULT_LATENCY_MS=30 against a baseline taken without it', async () => {
    const setup = await project(checks)
    const update = await gate(setup, ['--update-baseline'])
    expect(update.status, update.stderr).toBe(0)
    const baseline = JSON.parse(readFileSync(join(setup.dir, 'baselines', 'orders-latency.load.json'), 'utf8')) as {
      kind: string
      runs: unknown[]
    }
    expect(baseline.kind).toBe('opsctl.gate.baseline')
    expect(baseline.runs).toHaveLength(5)

    const same = await gate(setup, ['--json'])
    expect(same.status, same.stderr).toBe(0)

    writeConfig(setup.dir, setup.port, setup.marker, checks, { FAULT_LATENCY_MS: '30' })
    const slower = await gate(setup, ['--json', '--junit', 'gate.xml'])
    expect(slower.status, slower.stderr).toBe(1)
    const check = parseReport(slower.stdout).checks[0]!
    expect(check.status).toBe('fail')
    expect(check.verdict.reasons[0]).toMatch(
      /^regressed: p50 .* → .*: \+\d+\.\d% \(95% CI .*\), Mann–Whitney p [=<] .*, Cliff's δ [01]\.\d\d \(large\), 5\+5 runs/,
    )
    expect(processesMatching(setup.marker)).toEqual([])
  }, 240_000)
})

describe('the load regression check side by side with a reference build', () => {
  const checks = {
    'orders-latency': {
      type: 'load',
      scenario: 'orders.yaml',
      regression: { runs: 5, metrics: ['p50'], tolerance: '50%', maxSpread: '300%' },
    },
  }

  /** gate.reference: the same reference service on a port of its own, without faults. */
  async function withReference(setup: Setup): Promise<string> {
    const port = await freePort()
    const marker = `--opsctl-gate-reference-${randomBytes(4).toString('hex')}`
    const file = join(setup.dir, 'opsctl.yaml')
    const config = JSON.parse(readFileSync(file, 'utf8')) as { gate: Record<string, unknown> }
    config.gate.reference = {
      command: [...REFERENCE_COMMAND, marker],
      cwd: ROOT,
      env: { DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', OPSCTL_FLAGS: '' },
      readyUrl: `http://127.0.0.1:${port}/readyz`,
      startTimeout: '60s',
    }
    writeFileSync(file, JSON.stringify(config, null, 2))
    return marker
  }

  it('passes the same build and fails FAULT_LATENCY_MS=30, runs interleaved, no stored baseline needed', async () => {
    const setup = await project(checks)
    const referenceMarker = await withReference(setup)
    const same = await gate(setup, ['--json'])
    expect(same.status, same.stderr).toBe(0)
    const report = parseReport(same.stdout)
    expect(report.reference?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(report.checks[0]!.baseline).toEqual({ path: report.reference!.url, state: 'side-by-side' })
    const details = report.checks[0]!.details as { runs: unknown[]; reference: { runs: unknown[]; order: string[] } }
    expect(details.runs).toHaveLength(5)
    expect(details.reference.runs).toHaveLength(5)
    expect(details.reference.order).toEqual([
      ...['reference', 'current', 'current', 'reference', 'reference', 'current'],
      ...['current', 'reference', 'reference', 'current'],
    ])
    expect(same.stderr).toMatch(/Reference run 1\.\.\.\n(.*\n)*Run 1 of 5\.\.\.\n(.*\n)*Run 2 of 5\.\.\.\n(.*\n)*Reference run 2\.\.\./)
    expect(existsSync(join(setup.dir, 'baselines', 'orders-latency.load.json'))).toBe(false)

    writeConfig(setup.dir, setup.port, setup.marker, checks, { FAULT_LATENCY_MS: '30' })
    const secondMarker = await withReference(setup)
    const slower = await gate(setup, ['--json'])
    expect(slower.status, slower.stderr).toBe(1)
    const check = parseReport(slower.stdout).checks[0]!
    expect(check.budget).toMatch(/no regression against the reference build \(side by side\) beyond p50 50%/)
    // each run against the reference run next to it: 5 pairs, every one beyond the tolerance
    expect(check.verdict.reasons[0]).toMatch(
      /^regressed: p50 .* → .*: \+\d+\.\d% \(95% CI .*\), Wilcoxon signed-rank p = 0\.063, rank-biserial r 1\.00 \(large\), 5 pairs of runs — every run beyond its reference run/,
    )
    expect(processesMatching(setup.marker)).toEqual([])
    expect(processesMatching(referenceMarker)).toEqual([])
    expect(processesMatching(secondMarker)).toEqual([])
  }, 240_000)

  it('refuses a reference build without a service to compare it with (exit 2)', async () => {
    const dir = makeTempDir('opsctl-gate-config-')
    writeFileSync(
      join(dir, 'opsctl.yaml'),
      'gate:\n  reference: { command: [node, server.js], readyUrl: "http://127.0.0.1:1/readyz" }\n  checks:\n    n1: { type: nplusone, log: [pg.log] }\n',
    )
    writeFileSync(join(dir, 'pg.log'), '')
    const result = await runOpsctl(['gate'], { cwd: dir })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/gate\.reference: a reference build is compared with the service the gate starts/)
  }, 240_000)
})

describe('the profile growth check', () => {
  // at seed scale 0.05 the aggregation is about 13% of the self time, and FAULT_REPORT_CPU=4 adds 6-8 points
  const checks = { 'report-cpu': { type: 'profile', path: '/reports/revenue', duration: '4s', connections: 2, maxGrowth: '3%' } }

  it('fails FAULT_REPORT_CPU=4 naming the aggregation function, with the flame-graph diff', async () => {
    const setup = await project(checks)
    const update = await gate(setup, ['--update-baseline'])
    expect(update.status, update.stderr).toBe(0)
    expect(existsSync(join(setup.dir, 'baselines', 'report-cpu.folded'))).toBe(true)

    writeConfig(setup.dir, setup.port, setup.marker, checks, { FAULT_REPORT_CPU: '4' })
    const slower = await gate(setup, ['--markdown', 'gate.md'])
    expect(slower.status, slower.stderr).toBe(1)
    expect(slower.stdout).toMatch(
      /reference-service\/src\/revenue\.ts:\d+ aggregateRevenueByProductAndMonth \(reference-service\/src\/revenue\.ts:\d+\): self share/,
    )
    const markdown = readFileSync(join(setup.dir, 'gate.md'), 'utf8')
    expect(markdown).toMatch(/\[flame-graph diff\]\(<out\/report-cpu\.flamegraph-diff\.html>\)/)
    expect(existsSync(join(setup.dir, 'out', 'report-cpu.flamegraph-diff.html'))).toBe(true)
  }, 240_000)
})

describe('the service lifecycle', () => {
  const loadCheck = { 'orders-latency': { type: 'load', scenario: 'orders.yaml' } }

  it('exits 3 with the output tail when the service command exits at once', async () => {
    const setup = await project(loadCheck, {}, [
      'sh',
      '-c',
      'echo "connecting to the database..."; echo "FATAL: database is unreachable" >&2; exit 3',
    ])
    const result = await gate(setup)
    expect(result.status).toBe(3)
    expect(result.stderr).toMatch(
      /exited with code 3 before it was ready\. Its last output:\n.*connecting to the database\.\.\.\n.*FATAL: database is unreachable/,
    )
  }, 240_000)

  it('calls an N+1 check inconclusive when the service logged no statement, and shows what the service said, redacted', async () => {
    // a service without the live query hook: it answers, and writes nothing to $OPSCTL_QUERY_LOG
    const server = `require('node:http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT, '127.0.0.1', () =>
      console.log('listening without a query hook; db postgres://app:hunter2@db.internal/shop'))`
    const setup = await project({ 'orders-n-plus-one': { type: 'nplusone', max: 0, requests: ['/users/1/orders'] } }, {}, [
      process.execPath,
      '-e',
      server,
    ])
    const result = await gate(setup, ['--markdown', 'gate.md', '--json'], {
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: join(setup.dir, 'summary.md'),
    })
    expect(result.status, result.stderr).toBe(1)
    const report = parseReport(result.stdout)
    expect(report.checks[0]!.status).toBe('inconclusive')
    expect(report.checks[0]!.evidence.map((item) => item.message)).toContain(
      'service output: listening without a query hook; db postgres://app:***@db.internal/shop',
    )
    for (const text of [
      result.stdout,
      result.stderr,
      readFileSync(join(setup.dir, 'gate.md'), 'utf8'),
      readFileSync(join(setup.dir, 'summary.md'), 'utf8'),
    ])
      expect(text).not.toContain('hunter2')
    expect(readFileSync(join(setup.dir, 'gate.md'), 'utf8')).toMatch(/- service output: listening without a query hook/)
  }, 240_000)

  it('on Ctrl-C mid-gate stops the service, leaves no process behind and exits 130', async () => {
    const setup = await project({ 'orders-latency': { type: 'load', scenario: 'long.yaml' } })
    writeFileSync(join(setup.dir, 'long.yaml'), `name: long\nload: { rate: 10, duration: 60s }\nrequests:\n  - path: /users/1/orders\n`)
    mkdirSync(join(setup.dir, 'out'), { recursive: true })
    const result = await runOpsctl(['gate'], {
      cwd: setup.dir,
      env: { DATABASE_URL: database.url },
      timeoutMs: 120_000,
      interruptWhen: /Check orders-latency/,
    })
    expect(result.status, result.stderr).toBe(130)
    expect(result.stdout).toMatch(/Interrupted: the checks above ran, the rest did not\./)
    expect(processesMatching(setup.marker)).toEqual([])
  }, 240_000)
})

describe('the budget in opsctl.yaml', () => {
  it('names an unknown key and its line (exit 2) before anything starts', async () => {
    const dir = makeTempDir('opsctl-gate-config-')
    writeFileSync(
      join(dir, 'opsctl.yaml'),
      ['gate:', '  checks:', '    orders:', '      type: nplusone', '      max: 0', '      maximum: 3', ''].join('\n'),
    )
    const result = await runOpsctl(['gate'], { cwd: dir })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/opsctl\.yaml:6:7: unknown key "gate\.checks\.orders\.maximum"/)
  }, 240_000)

  it('names a wrong type and its line', async () => {
    const dir = makeTempDir('opsctl-gate-config-')
    writeFileSync(
      join(dir, 'opsctl.yaml'),
      ['gate:', '  checks:', '    orders:', '      type: nplusone', '      max: three', ''].join('\n'),
    )
    const result = await runOpsctl(['gate'], { cwd: dir })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/opsctl\.yaml:5:12: gate\.checks\.orders\.max: /)
  }, 240_000)

  it('refuses --check naming a check that does not exist', async () => {
    const dir = makeTempDir('opsctl-gate-config-')
    writeFileSync(join(dir, 'opsctl.yaml'), 'gate:\n  checks:\n    n1: { type: nplusone, log: [pg.log] }\n')
    writeFileSync(join(dir, 'pg.log'), '')
    const result = await runOpsctl(['gate', '--check', 'n2'], { cwd: dir })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/No gate check named n2\nTry: The checks are: n1\./)
  }, 240_000)

  it('refuses a gate without checks, and a live N+1 check without a service', async () => {
    const dir = makeTempDir('opsctl-gate-config-')
    writeFileSync(join(dir, 'opsctl.yaml'), 'gate:\n  checks: {}\n')
    expect((await runOpsctl(['gate'], { cwd: dir })).stderr).toMatch(/opsctl\.yaml has no gate checks/)
    writeFileSync(join(dir, 'opsctl.yaml'), 'gate:\n  checks:\n    n1: { type: nplusone }\n')
    const result = await runOpsctl(['gate'], { cwd: dir })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/gate\.checks\.n1: the live N\+1 hook needs gate\.service/)
  }, 240_000)
})
