/**
 * Parameter values never reach output. PostgreSQL plans a statement with bound parameters as if
 * the values were literals, so they show up in the plan ("Filter: (sku = 'SKU-42'::text)") and in
 * error messages. This puts $n back in their place. Pure.
 */
import { REDACTED } from '../core/index.js'
import type { JsonValue } from '../core/index.js'

/** Plan fields that hold expressions, where a bare number may be a parameter's value. */
const EXPRESSION_KEYS = new Set([
  'Filter',
  'Index Cond',
  'Recheck Cond',
  'Join Filter',
  'Hash Cond',
  'Merge Cond',
  'One-Time Filter',
  'TID Cond',
  'Output',
  'Sort Key',
  'Group Key',
  'Presorted Key',
  'Cache Key',
  'Run Condition',
  'Function Call',
  'Order By',
])

export function scrubParameterValues<T extends JsonValue>(value: T, params: readonly string[]): T {
  if (params.length === 0) return value
  return scrub(value, params, null) as T
}

function scrub(value: JsonValue, params: readonly string[], key: string | null): JsonValue {
  if (typeof value === 'string') return scrubString(value, params, key !== null && EXPRESSION_KEYS.has(key))
  if (Array.isArray(value)) return value.map((item) => scrub(item, params, key))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, JsonValue> = {}
  for (const [name, item] of Object.entries(value)) {
    Object.defineProperty(out, name, { value: scrub(item, params, name), enumerable: true, writable: true, configurable: true })
  }
  return out
}

function scrubString(text: string, params: readonly string[], expression: boolean): string {
  let out = text
  // Longest first, so that "12" does not eat into "123".
  const order = params.map((param, index) => ({ param, index })).sort((a, b) => b.param.length - a.param.length)
  for (const { param, index } of order) {
    if (param === '') continue
    const placeholder = `$${index + 1}`
    out = out.split(`'${param.replace(/'/g, "''")}'`).join(placeholder)
    if (expression && /^-?\d+(\.\d+)?$/.test(param)) {
      out = out.replace(new RegExp(`(?<![\\w.$'])${escapeRegExp(param)}(?![\\w.'])`, 'g'), placeholder)
    }
  }
  return out
}

/** For error messages: occurrences of a value become ***. */
export function redactParameterValues(text: string, params: readonly string[]): string {
  let out = text
  for (const param of [...params].sort((a, b) => b.length - a.length)) {
    if (param.length === 0) continue
    // Short values only where quoted, so that "1" does not blank every digit of the message.
    if (param.length >= 3) out = out.split(param).join(REDACTED)
    else out = out.split(`"${param}"`).join(`"${REDACTED}"`).split(`'${param}'`).join(`'${REDACTED}'`)
  }
  return out
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
