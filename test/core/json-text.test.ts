import { describe, expect, it } from 'vitest'
import { JsonSyntaxError, parseJsonText } from '../../src/core/index.js'
import { fixture } from '../explain/plan-builders.js'

describe('the duplicate-keeping JSON parser', () => {
  it('keeps both "Workers" arrays PostgreSQL 12 writes into one Sort node, where JSON.parse keeps one', () => {
    const text = fixture('duplicate-workers-pg12-shape.json')
    const sortOf = (value: unknown) => (value as Array<{ Plan: { Plans: Array<{ Workers: unknown[] }> } }>)[0]!.Plan.Plans[0]!
    expect(sortOf(JSON.parse(text)).Workers).toHaveLength(2)
    const parsed = parseJsonText(text, { duplicates: 'collect' })
    expect(parsed.duplicateKeys).toEqual({ Workers: 1 })
    const workers = sortOf(parsed.value).Workers as Array<Record<string, unknown>>
    expect(workers).toHaveLength(4)
    expect(workers.filter((worker) => worker['Sort Method'] === 'external merge')).toHaveLength(2)
    expect(workers.filter((worker) => worker['Actual Rows'] !== undefined)).toHaveLength(2)
  })

  it('collects repeated scalar keys into an array, in order', () => {
    expect(parseJsonText('{"a": 1, "a": 2, "a": 3, "b": [1]}', { duplicates: 'collect' }).value).toEqual({ a: [1, 2, 3], b: [1] })
    expect(parseJsonText('{"a": [1], "a": [2], "a": [3]}', { duplicates: 'collect' }).value).toEqual({ a: [1, 2, 3] })
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
    for (const text of documents) expect(parseJsonText(text, { duplicates: 'collect' }).value).toEqual(JSON.parse(text))
  })

  it('does not let a "__proto__" key change the prototype', () => {
    const value = parseJsonText('{"__proto__": {"polluted": true}}', { duplicates: 'collect' }).value as Record<string, unknown>
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
      parseJsonText(text, { duplicates: 'collect' })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(JsonSyntaxError)
      const syntax = error as JsonSyntaxError
      expect(syntax.reason).toContain(reason)
      expect([syntax.line, syntax.column]).toEqual([line, column])
    }
  })
})

describe('the same parser for payloads (duplicates: last, a depth limit)', () => {
  it.each([
    ['{"a": 1,}', 1, 9],
    ['{"a" 1}', 1, 6],
    ['{"a": "x\ny"}', 1, 9],
    ['{"a": tru}', 1, 7],
    ['{"a": 1} x', 1, 10],
    ['{"a": "\\q"}', 1, 8],
  ])('%j fails at %i:%i', (text, line, column) => {
    expect(() => parseJsonText(text)).toThrow(expect.objectContaining({ line, column }))
  })

  it('keeps the last of repeated keys, as JSON.parse does, and counts them', () => {
    expect(parseJsonText('{"a": 1, "a": 2}')).toEqual({ value: { a: 2 }, duplicateKeys: { a: 1 } })
  })

  it('refuses nesting past the limit at the bracket that crosses it', () => {
    expect(() => parseJsonText(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, { maxDepth: 64 })).toThrow(
      expect.objectContaining({ line: 1, column: 65, reason: 'nested deeper than 64 levels' }),
    )
  })
})
