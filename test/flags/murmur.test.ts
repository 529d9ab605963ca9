import { describe, expect, it } from 'vitest'
import { murmurHash3x86, normalizedValue } from '../../src/flags/murmur.js'

// Vectors computed with murmurhash3js, the package Unleash's Node SDK and server hash with.
describe('murmurHash3x86', () => {
  it.each([
    ['gr1:123', 0, 538421172],
    ['groupX:999', 0, 3843606124],
    ['orders.eager-loading:user-1', 0, 1528316335],
    ['a:', 0, 4050473235],
    [':abc', 0, 157399362],
    ['gr1:123', 86028157, 4076427795],
    ['hello', 42, 3806057185],
    ['abcd', 0, 1139631978],
    ['abcde', 0, 3902511862],
  ])('hashes %j with seed %i like murmurhash3js', (key, seed, expected) => {
    expect(murmurHash3x86(key, seed)).toBe(expected)
  })

  it('takes the low byte of each UTF-16 code unit, as murmurhash3js does (not UTF-8)', () => {
    expect(murmurHash3x86('é漢字x')).toBe(767446084)
  })
})

describe('normalizedValue', () => {
  it("matches Unleash's client specification: 73 for user 123 in gr1, 25 for 999 in groupX", () => {
    expect(normalizedValue('123', 'gr1')).toBe(73)
    expect(normalizedValue('999', 'groupX')).toBe(25)
  })

  it('always lands in 1..100', () => {
    for (let i = 0; i < 2000; i++) {
      const value = normalizedValue(`user-${i}`, 'g')
      expect(value).toBeGreaterThanOrEqual(1)
      expect(value).toBeLessThanOrEqual(100)
    }
  })
})
