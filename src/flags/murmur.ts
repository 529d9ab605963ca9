/**
 * MurmurHash3, x86 32-bit, exactly as the `murmurhash3js` package that Unleash's Node SDK and
 * server use: each UTF-16 code unit contributes its low byte (so "é" hashes like "\u00e9" and
 * not like its UTF-8 bytes), and the length mixed in is the string's length.
 */
export function murmurHash3x86(key: string, seed = 0): number {
  const remainder = key.length % 4
  const bytes = key.length - remainder
  let h1 = seed | 0
  const c1 = 0xcc9e2d51
  const c2 = 0x1b873593
  let i = 0
  for (; i < bytes; i += 4) {
    let k1 =
      (key.charCodeAt(i) & 0xff) |
      ((key.charCodeAt(i + 1) & 0xff) << 8) |
      ((key.charCodeAt(i + 2) & 0xff) << 16) |
      ((key.charCodeAt(i + 3) & 0xff) << 24)
    k1 = Math.imul(k1, c1)
    k1 = rotl(k1, 15)
    k1 = Math.imul(k1, c2)
    h1 ^= k1
    h1 = rotl(h1, 13)
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0
  }
  if (remainder > 0) {
    let k1 = 0
    if (remainder === 3) k1 ^= (key.charCodeAt(i + 2) & 0xff) << 16
    if (remainder >= 2) k1 ^= (key.charCodeAt(i + 1) & 0xff) << 8
    k1 ^= key.charCodeAt(i) & 0xff
    k1 = Math.imul(k1, c1)
    k1 = rotl(k1, 15)
    k1 = Math.imul(k1, c2)
    h1 ^= k1
  }
  h1 ^= key.length
  h1 ^= h1 >>> 16
  h1 = Math.imul(h1, 0x85ebca6b)
  h1 ^= h1 >>> 13
  h1 = Math.imul(h1, 0xc2b2ae35)
  h1 ^= h1 >>> 16
  return h1 >>> 0
}

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift))
}

/** The seed Unleash hashes rollouts with, and the one it hashes variants with. */
export const STRATEGY_SEED = 0
export const VARIANT_SEED = 86028157

/** Unleash's bucket of an id in a group: `murmur3("groupId:id") % normalizer + 1`, 1..normalizer. */
export function normalizedValue(id: string, groupId: string, normalizer = 100, seed = STRATEGY_SEED): number {
  return (murmurHash3x86(`${groupId}:${id}`, seed) % normalizer) + 1
}
