/**
 * IPv4 and IPv6 addresses and CIDR ranges, for the remoteAddress strategy and the IN_CIDR
 * operator. Pure. Follows the `ip-address` package Unleash's Node SDK uses closely enough that
 * the same ranges match the same addresses.
 */
export interface ParsedAddress {
  family: 4 | 6
  value: bigint
  /** Prefix length; a plain address is a /32 or /128. */
  mask: number
}

const IPV4_PART = /^\d{1,3}$/

export function parseIPv4(text: string): ParsedAddress | undefined {
  const [address = '', mask, ...extra] = text.split('/')
  if (extra.length > 0) return undefined
  const parts = address.split('.')
  if (parts.length !== 4) return undefined
  let value = 0n
  for (const part of parts) {
    if (!IPV4_PART.test(part) || Number(part) > 255) return undefined
    value = (value << 8n) | BigInt(Number(part))
  }
  const bits = parseMask(mask, 32)
  return bits === undefined ? undefined : { family: 4, value, mask: bits }
}

export function parseIPv6(text: string): ParsedAddress | undefined {
  const [address = '', mask, ...extra] = text.split('/')
  if (extra.length > 0 || address.includes('%')) return undefined
  let groups: number[] = []
  let head = address
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two groups.
  const lastColon = head.lastIndexOf(':')
  if (head.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(head.slice(lastColon + 1))
    if (!v4 || v4.mask !== 32) return undefined
    const tail = Number(v4.value)
    head = `${head.slice(0, lastColon + 1)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`
  }
  const halves = head.split('::')
  if (halves.length > 2) return undefined
  const readGroups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined
      out.push(parseInt(group, 16))
    }
    return out
  }
  const left = readGroups(halves[0] ?? '')
  const right = halves.length === 2 ? readGroups(halves[1] ?? '') : []
  if (!left || !right) return undefined
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length
    if (missing < 1) return undefined
    groups = [...left, ...new Array<number>(missing).fill(0), ...right]
  } else {
    groups = left
  }
  if (groups.length !== 8) return undefined
  const value = groups.reduce((total, group) => (total << 16n) | BigInt(group), 0n)
  const bits = parseMask(mask, 128)
  return bits === undefined ? undefined : { family: 6, value, mask: bits }
}

function parseMask(mask: string | undefined, max: number): number | undefined {
  if (mask === undefined) return max
  if (!/^\d{1,3}$/.test(mask)) return undefined
  const bits = Number(mask)
  return bits <= max ? bits : undefined
}

export function parseAddress(text: string): ParsedAddress | undefined {
  return parseIPv4(text) ?? parseIPv6(text)
}

/** True when `address` lies in `range` (same family; a range without a mask is one address). */
export function isInRange(address: ParsedAddress, range: ParsedAddress): boolean {
  if (address.family !== range.family) return false
  const width = address.family === 4 ? 32 : 128
  if (address.value === range.value) return true
  if (address.mask < range.mask) return false
  const shift = BigInt(width - range.mask)
  return address.value >> shift === range.value >> shift
}
