import { describe, expect, it } from 'vitest'
import { ExitCode, formatDuration, parseDuration, parsePercent, parseSize } from '../../src/core/index.js'

describe('units', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['500', 500],
  ])('parses the duration %s', (text, ms) => expect(parseDuration(text)).toBe(ms))

  it.each(['', 'ms', '10 parsecs', '5x', '1h-', '--1s'])('refuses the duration "%s" with exit 2', (text) => {
    expect(() => parseDuration(text)).toThrow(expect.objectContaining({ exit: ExitCode.BadInput }))
  })

  it('parses sizes in SI and binary units', () => {
    expect(parseSize('64kB')).toBe(64_000)
    expect(parseSize('1.5GB')).toBe(1_500_000_000)
    expect(parseSize('1MiB')).toBe(1_048_576)
    expect(() => parseSize('lots')).toThrow(/Invalid size/)
  })

  it('parses percentages and fractions', () => {
    expect(parsePercent('25%')).toBe(0.25)
    expect(parsePercent('0.5%')).toBe(0.005)
    expect(parsePercent('0.3')).toBe(0.3)
    expect(() => parsePercent('25')).toThrow(/fraction/)
  })

  it('formats durations for humans', () => {
    expect(formatDuration(0.5)).toBe('500µs')
    expect(formatDuration(12)).toBe('12ms')
    expect(formatDuration(1500)).toBe('1.50s')
    expect(formatDuration(125_000)).toBe('2m5s')
  })
})
