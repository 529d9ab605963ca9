// opsctl db nplusone / db top as a user runs them (few processes: each costs a few seconds).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname

describe('opsctl db nplusone', () => {
  it('reads stdin, honours --ignore, and prints one JSON document with --json', () => {
    const result = runCli(
      [
        'db',
        'nplusone',
        '--log',
        '-',
        '--json',
        '--ignore',
        'INSERT INTO items*',
        '--ignore',
        'select sku from items where *',
        '--show-params',
      ],
      {
        input: readFileSync(`${FIXTURES}shop.log`, 'utf8'),
      },
    )
    expect(result.status, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report.patterns.map((pattern: { sql: string }) => pattern.sql)).toEqual([
      'SELECT id, sku, quantity FROM items WHERE order_id = $1 ORDER BY id',
    ])
    expect(report.patterns[0].samples).toHaveLength(3)
    expect(report.sources[0]).toMatchObject({ name: 'stdin', format: 'stderr', statements: 34 })
  })

  it('exits 2 on binary input, naming the file', () => {
    const result = runCli(['db', 'nplusone', '--otlp', `${process.execPath}`])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/is binary, not a text log: NUL byte at line \d+/)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('opsctl db top', () => {
  it('prints statements by total time and the errors', () => {
    const result = runCli(['db', 'top', '--log', `${FIXTURES}shop.json`, '--limit', '3'])
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^Statements by total time \(3 of 15\)/)
    expect(result.stdout).toMatch(/Errors \(2\)[\s\S]*22012\s+division by zero/)
  })
})
