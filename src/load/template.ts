/**
 * Request templates: `/users/{{userId}}/orders`, JSON bodies with `{{sku}}` in their strings,
 * and the per-request variables that fill them (a seeded random integer, a counter, values from
 * a CSV column). Parsing reports the column of a mistake; rendering is plain string work.
 */
import { randomInt, type Random } from '../core/index.js'

/** How a value is written where it is substituted. */
export type Encoding = 'uri' | 'raw' | 'json-value' | 'json-string'

export type TemplatePart = string | { variable: string; encoding: Encoding }

export interface Template {
  parts: TemplatePart[]
  variables: string[]
}

export type TemplateParse = { ok: true; template: Template } | { ok: false; column: number; reason: string }

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

export function isVariableName(name: string): boolean {
  return VARIABLE_NAME.test(name) && !RESERVED.has(name)
}

/** Parses `text {{name}} text`; `known` limits the names that may appear. Columns are 1-based. */
export function parseTemplate(text: string, encoding: Encoding, known?: ReadonlySet<string>): TemplateParse {
  const parts: TemplatePart[] = []
  const variables: string[] = []
  let literal = ''
  let i = 0
  while (i < text.length) {
    const open = text.indexOf('{{', i)
    if (open === -1) {
      literal += text.slice(i)
      break
    }
    literal += text.slice(i, open)
    const close = text.indexOf('}}', open + 2)
    if (close === -1) return { ok: false, column: open + 1, reason: 'unclosed "{{": a variable is written {{name}}' }
    const name = text.slice(open + 2, close).trim()
    if (!isVariableName(name))
      return { ok: false, column: open + 3, reason: `"${name.slice(0, 40)}" is not a variable name (letters, digits and _)` }
    if (known && !known.has(name)) {
      const list = [...known]
      return {
        ok: false,
        column: open + 3,
        reason: `unknown variable "${name}"${list.length ? `; this request defines ${list.join(', ')}` : '; define it under variables'}`,
      }
    }
    if (literal) parts.push(literal)
    literal = ''
    parts.push({ variable: name, encoding })
    if (!variables.includes(name)) variables.push(name)
    i = close + 2
  }
  if (literal) parts.push(literal)
  return { ok: true, template: { parts, variables } }
}

export function literalTemplate(text: string): Template {
  return { parts: text ? [text] : [], variables: [] }
}

export type Values = Readonly<Record<string, string | number>>

export function renderTemplate(template: Template, values: Values): string {
  let out = ''
  for (const part of template.parts) {
    if (typeof part === 'string') out += part
    else out += encodeValue(values[part.variable] ?? '', part.encoding)
  }
  return out
}

function encodeValue(value: string | number, encoding: Encoding): string {
  switch (encoding) {
    case 'uri':
      return encodeURIComponent(String(value))
    case 'raw':
      return String(value)
    case 'json-value':
      return JSON.stringify(value)
    case 'json-string':
      return JSON.stringify(String(value)).slice(1, -1)
  }
}

export type BodyTemplateParse =
  { ok: true; template: Template } | { ok: false; path: Array<string | number>; column: number; reason: string }

/**
 * A JSON body given as YAML data. A string that is exactly `{{name}}` becomes the value itself
 * (a number stays a number); variables inside longer strings are escaped into the string.
 */
export function jsonBodyTemplate(body: unknown, known: ReadonlySet<string>): BodyTemplateParse {
  const parts: TemplatePart[] = []
  const variables = new Set<string>()
  const push = (text: string) => {
    const last = parts[parts.length - 1]
    if (typeof last === 'string') parts[parts.length - 1] = last + text
    else parts.push(text)
  }
  const walk = (value: unknown, path: Array<string | number>): BodyTemplateParse | undefined => {
    if (typeof value === 'string') {
      const exact = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(value)
      const parsed = parseTemplate(value, exact ? 'json-value' : 'json-string', known)
      if (!parsed.ok) return { ok: false, path, column: parsed.column, reason: parsed.reason }
      parsed.template.variables.forEach((name) => variables.add(name))
      if (exact) {
        parts.push(parsed.template.parts[0]!)
        return undefined
      }
      push('"')
      for (const part of parsed.template.parts) {
        if (typeof part === 'string') push(JSON.stringify(part).slice(1, -1))
        else parts.push(part)
      }
      push('"')
      return undefined
    }
    if (Array.isArray(value)) {
      push('[')
      for (const [index, item] of value.entries()) {
        if (index > 0) push(',')
        const failure = walk(item, [...path, index])
        if (failure) return failure
      }
      push(']')
      return undefined
    }
    if (value !== null && typeof value === 'object') {
      push('{')
      for (const [index, [key, item]] of Object.entries(value).entries()) {
        if (index > 0) push(',')
        push(`${JSON.stringify(key)}:`)
        const failure = walk(item, [...path, key])
        if (failure) return failure
      }
      push('}')
      return undefined
    }
    push(JSON.stringify(value ?? null))
    return undefined
  }
  const failure = walk(body, [])
  if (failure) return failure
  return { ok: true, template: { parts, variables: [...variables] } }
}

// --- variables ---

export type VariableSpec =
  | { kind: 'random'; min: number; max: number }
  | { kind: 'counter'; start: number; step: number }
  | { kind: 'values'; values: Array<string | number>; order: 'sequential' | 'random'; source: string }

export interface VariableContext {
  random: Random
  /** This thread's index and the number of load threads, so counters and sequences never collide. */
  thread: number
  threads: number
}

/** A generator of successive values for one variable in one thread. */
export function variableSource(spec: VariableSpec, context: VariableContext): () => string | number {
  switch (spec.kind) {
    case 'random':
      return () => randomInt(context.random, spec.min, spec.max)
    case 'counter': {
      let n = 0
      return () => spec.start + spec.step * (n++ * context.threads + context.thread)
    }
    case 'values': {
      let n = 0
      if (spec.order === 'random') return () => spec.values[Math.floor(context.random() * spec.values.length)]!
      return () => spec.values[(n++ * context.threads + context.thread) % spec.values.length]!
    }
  }
}

// --- response expectations ---

export type JsonPath = Array<string | number>

export type JsonPathParse = { ok: true; path: JsonPath } | { ok: false; column: number; reason: string }

/** `$.orders[0].id`, `orders.0.id` or `userId`. */
export function parseJsonPath(text: string): JsonPathParse {
  const path: JsonPath = []
  let i = 0
  if (text.startsWith('$')) i = 1
  if (text.length === i) return { ok: true, path }
  if (i === 1 && text[i] !== '.' && text[i] !== '[') return { ok: false, column: i + 1, reason: 'expected "." or "[" after "$"' }
  let first = i === 0
  while (i < text.length) {
    if (text[i] === '[') {
      const close = text.indexOf(']', i)
      const inner = close === -1 ? '' : text.slice(i + 1, close)
      if (/^\d+$/.test(inner)) path.push(Number(inner))
      else if (/^(['"]).*\1$/.test(inner) && inner.length >= 2) path.push(inner.slice(1, -1))
      else return { ok: false, column: i + 1, reason: 'expected an index like [0] or a quoted key like ["name"]' }
      i = close + 1
      first = false
      continue
    }
    if (!first) {
      if (text[i] !== '.') return { ok: false, column: i + 1, reason: `expected "." or "[" but found "${text[i]}"` }
      i++
    }
    first = false
    const key = /^[^.[\]]+/.exec(text.slice(i))?.[0]
    if (!key) return { ok: false, column: i + 1, reason: 'expected a key name' }
    path.push(/^\d+$/.test(key) ? Number(key) : key)
    i += key.length
  }
  return { ok: true, path }
}

export interface BodyExpectation {
  contains?: Template
  json?: { path: JsonPath; pathText: string; equals: unknown }
}

/** undefined when the body meets the expectation, otherwise the reason it does not. */
export function checkBody(body: string, expectation: BodyExpectation, values: Values): string | undefined {
  if (expectation.contains) {
    const needle = renderTemplate(expectation.contains, values)
    if (!body.includes(needle)) return `body does not contain ${JSON.stringify(needle.slice(0, 60))}`
  }
  if (expectation.json) {
    let document: unknown
    try {
      document = JSON.parse(body)
    } catch {
      return 'body is not JSON'
    }
    let node: unknown = document
    for (const segment of expectation.json.path) {
      if (node === null || typeof node !== 'object' || !(String(segment) in node)) return `${expectation.json.pathText} is missing`
      node = (node as Record<string, unknown>)[String(segment)]
    }
    const expected = substituteExpected(expectation.json.equals, values)
    if (!looselyEqual(node, expected))
      return `${expectation.json.pathText} is ${JSON.stringify(node)?.slice(0, 60)}, expected ${JSON.stringify(expected)?.slice(0, 60)}`
  }
  return undefined
}

function substituteExpected(expected: unknown, values: Values): unknown {
  if (typeof expected !== 'string' || !expected.includes('{{')) return expected
  const exact = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(expected)
  if (exact) return values[exact[1]!]
  return expected.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_match, name: string) => String(values[name] ?? ''))
}

/** Deep equality where a string also matches the number or boolean it spells ("5" == 5). */
export function looselyEqual(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true
  if (typeof expected === 'string' && (typeof actual === 'number' || typeof actual === 'boolean')) return String(actual) === expected
  if (typeof actual === 'string' && (typeof expected === 'number' || typeof expected === 'boolean')) return actual === String(expected)
  if (Array.isArray(actual) && Array.isArray(expected))
    return actual.length === expected.length && actual.every((item, i) => looselyEqual(item, expected[i]))
  if (
    actual &&
    expected &&
    typeof actual === 'object' &&
    typeof expected === 'object' &&
    !Array.isArray(actual) &&
    !Array.isArray(expected)
  ) {
    const keys = Object.keys(expected)
    return (
      keys.length === Object.keys(actual).length &&
      keys.every((key) => looselyEqual((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key]))
    )
  }
  return false
}
