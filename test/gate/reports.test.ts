import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { verdict, palette } from '../../src/core/index.js'
import type { CheckResult, GateReport } from '../../src/gate/model.js'
import { sourceLocation } from '../../src/gate/model.js'
import { escapeData, escapeProperty, githubAnnotations } from '../../src/gate/report-github.js'
import { renderJUnit } from '../../src/gate/report-junit.js'
import { renderMarkdown } from '../../src/gate/report-markdown.js'
import { renderGateReport } from '../../src/gate/report-terminal.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { makeTempDir } from '../helpers/temp.js'

const XSD = fileURLToPath(new URL('fixtures/junit.xsd', import.meta.url))
const HOSTILE = 'a<b>&"c\' | *x* ]]> \u0001\u001b[31m%0A,:\r\nnext'

function check(overrides: Partial<CheckResult>): CheckResult {
  const status = overrides.status ?? 'pass'
  return {
    name: 'orders-latency',
    type: 'load',
    status,
    verdict: overrides.verdict ?? verdict(status),
    measured: 'p50 4.20ms, p99 12ms, 50.0 rps, 0.00% errors (5 runs)',
    budget: 'p99<250ms',
    evidence: [],
    files: [],
    durationMs: 1234,
    ...overrides,
  }
}

function report(checks: CheckResult[]): GateReport {
  const status = checks.some((item) => item.status === 'fail')
    ? 'fail'
    : checks.some((item) => item.status === 'invalid')
      ? 'invalid'
      : 'pass'
  return {
    kind: 'opsctl.gate.report',
    version: 1,
    startedAt: '2026-12-05T07:00:00.000Z',
    finishedAt: '2026-12-05T07:00:30.000Z',
    durationMs: 30_000,
    mode: 'check',
    checks,
    status,
    verdict: verdict(
      status,
      checks.flatMap((item) => item.verdict.reasons),
    ),
    baselines: { dir: '.opsctl/baselines', updated: [] },
    files: { dir: '.opsctl/gate' },
  }
}

const sample = report([
  check({}),
  check({
    name: 'orders-n-plus-one',
    type: 'nplusone',
    status: 'fail',
    verdict: verdict('fail', ['orders-n-plus-one: 1 N+1 pattern, budget 0'], { hint: 'Batch it.' }),
    evidence: [{ message: 'N+1 3f2a: SELECT * FROM items WHERE order_id = $1', file: 'reference-service/src/store/orders.ts', line: 80 }],
  }),
  check({
    name: HOSTILE,
    type: 'explain',
    status: 'invalid',
    verdict: verdict('invalid', [`reason ${HOSTILE}`]),
    evidence: [{ message: `evidence ${HOSTILE}` }],
    files: [{ label: 'plan diff', path: '.opsctl/gate/item search.plan-diff.md' }],
  }),
])

function xmllint(args: string[]) {
  return spawnSync('xmllint', args, { encoding: 'utf8' })
}

describe('JUnit XML', () => {
  it('validates against the JUnit schema with a real validator, hostile names included', () => {
    if (!requireOrSkip(xmllint(['--version']).status === 0, 'xmllint (libxml2-utils) is not installed')) return
    const file = join(makeTempDir('opsctl-gate-junit-'), 'gate.xml')
    writeFileSync(file, renderJUnit(sample))
    const result = xmllint(['--noout', '--schema', XSD, file])
    expect(result.status, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/validates/)
  })

  it('has one test case per check: fail is a failure, an invalid measurement an error', () => {
    const xml = renderJUnit(sample)
    expect(xml.match(/<testcase /g)).toHaveLength(3)
    expect(xml).toMatch(/<testsuites name="opsctl gate" tests="3" failures="1" errors="1"/)
    expect(xml).toMatch(/<failure message="orders-n-plus-one: 1 N\+1 pattern, budget 0" type="fail">/)
    expect(xml).toMatch(/<error message="[^"]*" type="invalid measurement">/)
    expect(xml).toContain('reference-service/src/store/orders.ts:80: N+1 3f2a')
  })

  it('escapes markup and drops characters XML forbids', () => {
    const xml = renderJUnit(sample)
    expect(xml).toContain('name="a&lt;b&gt;&amp;&quot;c&apos; | *x* ]]&gt; [31m%0A,:&#13;&#10;next"')
    expect(xml).not.toContain('\u0001')
    expect(xml).not.toContain('\u001b')
  })

  it('reads back the same names (a real parser, not a string compare)', () => {
    if (!requireOrSkip(xmllint(['--version']).status === 0, 'xmllint (libxml2-utils) is not installed')) return
    const file = join(makeTempDir('opsctl-gate-junit-'), 'gate.xml')
    writeFileSync(file, renderJUnit(sample))
    const names = xmllint(['--xpath', 'string(//testcase[3]/@name)', file])
    expect(names.stdout.replace(/\n$/, '')).toBe(HOSTILE.replace(/[\u0001\u001b]/g, ''))
  })
})

describe('the Markdown report', () => {
  it('renders the checks as a table, one row each, with every cell escaped', () => {
    const markdown = renderMarkdown(sample)
    const rows = markdown.split('\n').filter((line) => line.startsWith('|'))
    expect(rows[0]).toBe('| Check | Type | Measured | Budget | Verdict |')
    expect(rows).toHaveLength(2 + 3)
    for (const row of rows) expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(7)
    expect(markdown).toContain('a\\<b\\>&"c\' \\| \\*x\\* \\]\\]\\>')
    expect(markdown).toMatch(/^## ❌ opsctl gate: failed/)
  })

  it('lists the evidence of a failed check with its source line, and links evidence files', () => {
    const markdown = renderMarkdown(sample, { linkFrom: process.cwd() })
    expect(markdown).toContain('- `reference-service/src/store/orders.ts:80` N+1 3f2a: SELECT \\* FROM items WHERE order\\_id = $1')
    expect(markdown).toContain('[plan diff](<.opsctl/gate/item%20search.plan-diff.md>)')
  })
})

describe('GitHub annotations', () => {
  it('point at the source line in the format GitHub documents', () => {
    const lines = githubAnnotations(sample)
    expect(lines[0]).toBe(
      '::error file=reference-service/src/store/orders.ts,line=80,title=opsctl gate%3A orders-n-plus-one (fail)::N+1 3f2a: SELECT * FROM items WHERE order_id = $1',
    )
  })

  it('escape data and properties as the runner expects', () => {
    expect(escapeData('50% done\r\nnext')).toBe('50%25 done%0D%0Anext')
    expect(escapeProperty('a:b,c%\n')).toBe('a%3Ab%2Cc%25%0A')
    const lines = githubAnnotations(sample)
    expect(lines.every((line) => !/[\r\n]/.test(line))).toBe(true)
    expect(lines[1]).toMatch(
      /^::warning title=opsctl gate%3A a<b>&"c' \| \*x\* \]\]> .*%250A%2C%3A%0D%0Anext \(invalid measurement\)::reason /,
    )
  })

  it('say nothing for checks that passed', () => {
    expect(githubAnnotations(report([check({})]))).toEqual([])
  })
})

describe('the terminal summary', () => {
  it('shows each check with measured value, budget and verdict, and the evidence of failures', () => {
    const text = renderGateReport(sample, palette(false))
    expect(text).toMatch(/orders-latency\s+load\s+p50 4\.20ms, p99 12ms.*\s+p99<250ms\s+Passed/)
    expect(text).toContain('reference-service/src/store/orders.ts:80 N+1 3f2a')
    expect(text).toMatch(/Gate: Failed$/)
  })
})

describe('source locations', () => {
  it('reads call sites and profile locations, and ignores what has no file', () => {
    expect(sourceLocation('reference-service/src/store/orders.ts:80:34 (listOrdersWithItems)')).toEqual({
      file: 'reference-service/src/store/orders.ts',
      line: 80,
    })
    expect(sourceLocation('reference-service/src/revenue.ts:53')).toEqual({ file: 'reference-service/src/revenue.ts', line: 53 })
    expect(sourceLocation('node:buffer:635')).toBeUndefined()
    expect(sourceLocation('(native)')).toBeUndefined()
    expect(sourceLocation(undefined)).toBeUndefined()
  })
})
