/**
 * The one JSON parser with positions. `JSON.parse` on Node 20 says what is wrong but not where;
 * a plan pasted from psql or a payload copied from a webhook log needs "line 12, column 5".
 *
 * It also keeps what JSON.parse throws away, when asked (`duplicates: 'collect'`): PostgreSQL 12
 * and older emit the key "Workers" twice in one object (per-worker sort details, then per-worker
 * timing). A repeated key then keeps every value: two arrays are concatenated, anything else is
 * collected into an array. With `duplicates: 'last'` (the default) the value is what JSON.parse
 * gives. Nesting deeper than `maxDepth` is refused, so hostile input cannot exhaust the stack.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject
export interface JsonObject {
  [key: string]: JsonValue
}

export interface ParsedJson {
  value: JsonValue
  /** Keys that appeared more than once in one object, with how often a repeat was merged. */
  duplicateKeys: Record<string, number>
}

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`)
    this.name = 'JsonSyntaxError'
  }
}

export interface JsonParseOptions {
  /** 'last' keeps the last value of a repeated key, as JSON.parse does; 'collect' keeps them all. */
  duplicates?: 'last' | 'collect'
  /** Deepest nesting of objects and arrays accepted (default 512). */
  maxDepth?: number
}

const QUOTE_OR_ESCAPE = /["\\]/g
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

export function parseJsonText(text: string, options: JsonParseOptions = {}): ParsedJson {
  const collect = options.duplicates === 'collect'
  const maxDepth = options.maxDepth ?? 512
  const duplicateKeys: Record<string, number> = {}
  let index = 0
  let depth = 0

  const fail = (reason: string, at = index): never => {
    const before = text.slice(0, at)
    const line = (before.match(/\n/g)?.length ?? 0) + 1
    const column = at - (before.lastIndexOf('\n') + 1) + 1
    throw new JsonSyntaxError(reason, line, column)
  }
  const skipWhitespace = () => {
    while (index < text.length && (text[index] === ' ' || text[index] === '\n' || text[index] === '\r' || text[index] === '\t')) index++
  }
  const describeHere = () => (index >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[index])}`)

  const parseValue = (): JsonValue => {
    skipWhitespace()
    const char = text[index]
    if ((char === '{' || char === '[') && depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`)
    if (char === '{') return parseObject()
    if (char === '[') return parseArray()
    if (char === '"') return parseString()
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return parseNumber()
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, index)) {
        index += word.length
        return value
      }
    }
    return fail(`${describeHere()}, expected a value`)
  }

  const parseObject = (): JsonObject => {
    const object: JsonObject = {}
    const collected = new Set<string>()
    index++
    depth++
    skipWhitespace()
    if (text[index] === '}') {
      index++
      depth--
      return object
    }
    for (;;) {
      skipWhitespace()
      if (text[index] !== '"') fail(`${describeHere()}, expected a key in quotes`)
      const key = parseString()
      skipWhitespace()
      if (text[index] !== ':') fail(`${describeHere()}, expected ':' after key ${JSON.stringify(key)}`)
      index++
      const value = parseValue()
      if (Object.prototype.hasOwnProperty.call(object, key) && collect) {
        const existing = object[key]!
        if (collected.has(key) && Array.isArray(existing)) existing.push(value)
        else if (Array.isArray(existing) && Array.isArray(value)) existing.push(...value)
        else {
          object[key] = [existing, value]
          collected.add(key)
        }
        duplicateKeys[key] = (duplicateKeys[key] ?? 0) + 1
      } else {
        if (Object.prototype.hasOwnProperty.call(object, key)) duplicateKeys[key] = (duplicateKeys[key] ?? 0) + 1
        // "__proto__" must become an own key, not the object's prototype.
        if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
        else object[key] = value
      }
      skipWhitespace()
      if (text[index] === ',') {
        index++
        continue
      }
      if (text[index] === '}') {
        index++
        depth--
        return object
      }
      fail(`${describeHere()}, expected ',' or '}'`)
    }
  }

  const parseArray = (): JsonValue[] => {
    const array: JsonValue[] = []
    index++
    depth++
    skipWhitespace()
    if (text[index] === ']') {
      index++
      depth--
      return array
    }
    for (;;) {
      array.push(parseValue())
      skipWhitespace()
      if (text[index] === ',') {
        index++
        continue
      }
      if (text[index] === ']') {
        index++
        depth--
        return array
      }
      fail(`${describeHere()}, expected ',' or ']'`)
    }
  }

  const parseString = (): string => {
    const start = index
    index++
    let out = ''
    for (;;) {
      QUOTE_OR_ESCAPE.lastIndex = index
      const found = QUOTE_OR_ESCAPE.exec(text)
      if (!found) fail('unterminated string', start)
      const at = found!.index
      if (text[at] === '\\') {
        out += text.slice(index, at)
        index = at + 1
        const escape = text[index]
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
        if (escape !== undefined && escape in simple) {
          out += simple[escape]
          index++
        } else if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(index + 1, index + 5))) {
          out += String.fromCharCode(parseInt(text.slice(index + 1, index + 5), 16))
          index += 5
        } else {
          fail('invalid escape in string', index - 1)
        }
        continue
      }
      const chunk = text.slice(index, at)
      const control = chunk.search(/[\u0000-\u001f]/)
      if (control !== -1) fail('unescaped control character in string', index + control)
      out += chunk
      index = at + 1
      return out
    }
  }

  const parseNumber = (): number => {
    NUMBER.lastIndex = index
    const found = NUMBER.exec(text)
    if (!found) return fail(`${describeHere()}, expected a number`)
    index += found[0].length
    return Number(found[0])
  }

  const value = parseValue()
  skipWhitespace()
  if (index < text.length) fail(`unexpected ${JSON.stringify(text[index])} after the end of the document`)
  return { value, duplicateKeys }
}
