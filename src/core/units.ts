import { badInput } from './errors.js'

const DURATION_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
}

/** `250ms`, `30s`, `10m`, `1h30m`, `1.5s` -> milliseconds. A bare number is milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed)
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h|d)/gy)]
  const consumed = parts.map((part) => part[0]).join('')
  if (parts.length === 0 || consumed.replace(/\s/g, '') !== trimmed.replace(/\s/g, '')) {
    throw badInput(`Invalid ${what} "${text}"`, 'Use a number with a unit, such as 250ms, 30s, 10m or 2h.')
  }
  return parts.reduce((total, part) => total + Number(part[1]) * DURATION_UNITS[part[2]!]!, 0)
}

/** `64kB`, `1.5GB`, `512MiB`, `100` (bytes) -> bytes. */
export function parseSize(text: string, what = 'size'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i.exec(text.trim())
  if (!match) throw badInput(`Invalid ${what} "${text}"`, 'Use a number with a unit, such as 64kB, 16MB or 1.5GB.')
  return Math.round(Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()]!)
}

/** `25%` or `0.25` -> 0.25. */
export function parsePercent(text: string, what = 'percentage'): number {
  const match = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(text.trim())
  if (!match) throw badInput(`Invalid ${what} "${text}"`, 'Use a percentage such as 25% or 0.5%.')
  const value = match[2] === '%' ? Number(match[1]) / 100 : Number(match[1])
  if (value > 1 && match[2] !== '%') throw badInput(`Invalid ${what} "${text}": a fraction must be at most 1`, 'Write 25% or 0.25.')
  return value
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
  return `${Math.floor(ms / 3_600_000)}h${Math.round((ms % 3_600_000) / 60_000)}m`
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)}${units[unit]}`
}
