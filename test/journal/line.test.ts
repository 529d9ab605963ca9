import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/journal/event.js'
import { checksumOf, decodeLine, encodeLine, salvageLine } from '../../src/journal/line.js'
import { event, note } from './fixtures.js'

const withoutNewline = (line: string) => line.slice(0, -1)

describe('journal lines', () => {
  it('are one JSON object per line with the checksum of the canonical event last', () => {
    const written = note('deployed')
    const line = encodeLine(written)
    expect(line.endsWith('\n')).toBe(true)
    expect(line.indexOf('\n')).toBe(line.length - 1)
    const parsed = JSON.parse(line) as Record<string, unknown>
    expect(Object.keys(parsed).at(-1)).toBe('crc')
    expect(parsed.crc).toBe(checksumOf(canonicalJson(written)))
    expect(decodeLine(withoutNewline(line))).toEqual({ ok: true, value: written })
  })

  it('sort keys of data at every depth, so a jsonb round trip gives the same checksum', () => {
    const a = event({ kind: 'x.test', data: { b: 1, a: { z: [{ y: 1, x: 2 }], c: null } } })
    const reordered = { ...a, data: { a: { c: null, z: [{ x: 2, y: 1 }] }, b: 1 } }
    expect(canonicalJson(reordered)).toBe(canonicalJson(a))
  })

  it('reports a changed value as a checksum mismatch', () => {
    const line = withoutNewline(encodeLine(note('rollback at 14:02')))
    const changed = line.replace('14:02', '15:02')
    expect(decodeLine(changed)).toEqual({ ok: false, reason: expect.stringMatching(/checksum mismatch/) })
  })

  it('accepts an intact event whose keys were reordered by a tool', () => {
    const written = note('kept')
    const { crc, ...rest } = JSON.parse(encodeLine(written)) as Record<string, unknown>
    const reordered = JSON.stringify({ crc, data: rest.data, ...rest })
    expect(decodeLine(reordered)).toEqual({ ok: true, value: written })
  })

  it('reports a torn line, a missing checksum and a non-event', () => {
    const line = withoutNewline(encodeLine(note('torn')))
    expect(decodeLine(line.slice(0, 40))).toEqual({ ok: false, reason: 'not valid JSON' })
    expect(decodeLine(JSON.stringify(note('no crc')))).toEqual({ ok: false, reason: 'no checksum (crc)' })
    expect(decodeLine('[1,2]')).toEqual({ ok: false, reason: 'not a JSON object' })
    const bad = decodeLine(JSON.stringify({ v: 1, id: 'nope', crc: '00000000' }))
    expect(bad.ok ? '' : bad.reason).toMatch(/^not a journal event/)
  })

  it('accepts a newer envelope version with extra fields', () => {
    const canonical = JSON.stringify({ ...note('future'), v: 2, origin: 'eu' })
    const line = `${canonical.slice(0, -1)},"crc":"${checksumOf(canonical)}"}`
    const decoded = decodeLine(line)
    expect(decoded.ok && decoded.value).toMatchObject({ v: 2, origin: 'eu' })
  })

  it('finds an intact event behind a torn one on the same line', () => {
    const torn = withoutNewline(encodeLine(note('half written'))).slice(0, 60)
    const intact = note('written after the crash')
    const salvaged = salvageLine(torn + withoutNewline(encodeLine(intact)))
    expect(salvaged).toEqual({ event: intact, at: 60 })
    expect(salvageLine(torn)).toBeUndefined()
  })
})
