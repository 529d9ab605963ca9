import { describe, expect, it } from 'vitest'
import { LineSplitter } from '../../src/journal/input.js'

describe('splitting input into lines', () => {
  it('numbers lines across chunks and keeps the last line without a newline', () => {
    const splitter = new LineSplitter(100)
    expect(splitter.push('{"a":1}\n{"b"')).toEqual([{ line: 1, text: '{"a":1}' }])
    expect(splitter.push(':2}\r\n\n')).toEqual([
      { line: 2, text: '{"b":2}' },
      { line: 3, text: '' },
    ])
    expect(splitter.push('{"c":3}')).toEqual([])
    expect(splitter.end()).toEqual([{ line: 4, text: '{"c":3}' }])
  })

  it('reports a line over the limit by number without holding it, and goes on after it', () => {
    const splitter = new LineSplitter(10)
    const out = [
      ...splitter.push('ok\n'),
      ...splitter.push('x'.repeat(8)),
      ...splitter.push('x'.repeat(8)),
      ...splitter.push('x'.repeat(1000)),
      ...splitter.push('\nfine\n'),
    ]
    expect(out).toEqual([
      { line: 1, text: 'ok' },
      { line: 2, tooLong: true },
      { line: 3, text: 'fine' },
    ])
  })

  it('reports a long line ended by a newline in the same chunk', () => {
    const splitter = new LineSplitter(4)
    expect(splitter.push('12345\n1234\n')).toEqual([
      { line: 1, tooLong: true },
      { line: 2, text: '1234' },
    ])
    expect(splitter.push('123456')).toEqual([])
    expect(splitter.end()).toEqual([{ line: 3, tooLong: true }])
  })

  it('keeps multi-byte characters split between chunks', () => {
    const bytes = Buffer.from('{"m":"é€"}\n')
    const splitter = new LineSplitter()
    expect([...splitter.push(bytes.subarray(0, 8)), ...splitter.push(bytes.subarray(8))]).toEqual([{ line: 1, text: '{"m":"é€"}' }])
  })
})
