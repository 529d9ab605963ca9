import { describe, expect, it } from 'vitest'
import { JsonSyntaxError, parseJsonKeepingDuplicates } from '../../src/explain/index.js'
import { fixture } from './plan-builders.js'

describe('the duplicate-keeping JSON parser', () => {
  it('keeps both "Workers" arrays PostgreSQL 12 writes into one Sort node, where JSON.parse keeps one', () => {
    const text = fixture('duplicate-workers-pg12-shape.json')
    const sortOf = (value: unknown) => (value as Array<{ Plan: { Plans: Array<{ Workers: unknown[] }> } }>)[0]!.Plan.Plans[0]!
    expect(sortOf(JSON.parse(text)).Workers).toHaveLength(2)
    const parsed = parseJsonKeepingDuplicates(text)
    expect(parsed.duplicateKeys).toEqual({ Workers: 1 })
    const workers = sortOf(parsed.value).Workers as Array<Record<string, unknown>>
    expect(workers).toHaveLength(4)
    expect(workers.filter((worker) => worker['Sort Method'] === 'external merge')).toHaveLength(2)
    expect(workers.filter((worker) => worker['Actual Rows'] !== undefined)).toHaveLength(2)
  })

  it('collects repeated scalar keys into an array, in order', () => {
    expect(parseJsonKeepingDuplicates('{"a": 1, "a": 2, "a": 3, "b": [1]}').value).toEqual({ a: [1, 2, 3], b: [1] })
    expect(parseJsonKeepingDuplicates('{"a": [1], "a": [2], "a": [3]}').value).toEqual({ a: [1, 2, 3] })
  })

  it('agrees with JSON.parse on documents without duplicates', () => {
    const documents = [
      '[]',
      '{}',
      '  {"x": -1.5e3, "y": [true, false, null], "z": {"w": "a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00"}}  ',
      fixture('parallel-verbose-pg15.json'),
      fixture('pglite18-aggregate.json'),
      JSON.stringify({ nested: Array.from({ length: 50 }, (_, i) => ({ i, s: `v${i}`, f: i / 7 })) }),
    ]
    for (const text of documents) expect(parseJsonKeepingDuplicates(text).value).toEqual(JSON.parse(text))
  })

  it('does not let a "__proto__" key change the prototype', () => {
    const value = parseJsonKeepingDuplicates('{"__proto__": {"polluted": true}}').value as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(value.__proto__).toEqual({ polluted: true })
  })

  it.each([
    ['[\n  {\n    "Plan": {\n      "Node Type": "Seq', 'unterminated string', 4, 20],
    ['[\n  {\n    "Plan": {\n', 'unexpected end of input', 4, 1],
    ['{"a": 1,}', 'expected a key', 1, 9],
    ['{"a" 1}', "expected ':'", 1, 6],
    ['[1 2]', "expected ',' or ']'", 1, 4],
    ['{"a": tru}', 'expected a value', 1, 7],
    ['{"a": 1} x', 'after the end of the document', 1, 10],
    ['{"a": "\u0001"}', 'control character', 1, 8],
  ])('reports %j as an error at its line and column', (text, reason, line, column) => {
    try {
      parseJsonKeepingDuplicates(text)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(JsonSyntaxError)
      const syntax = error as JsonSyntaxError
      expect(syntax.reason).toContain(reason)
      expect([syntax.line, syntax.column]).toEqual([line, column])
    }
  })
})
