/**
 * JSON with positions. `JSON.parse` on Node 20 says what is wrong but not where; a payload
 * pasted from a webhook log needs "line 12, column 5". This scanner only finds the first
 * syntax error (and refuses absurd nesting); the value itself still comes from JSON.parse.
 */
export interface JsonSyntaxError {
  line: number
  col: number
  message: string
}

const MAX_DEPTH = 64

export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let pos = 0
  let depth = 0
  const fail = (message: string, at = pos): never => {
    throw Object.assign(new Error(message), { at })
  }
  const ws = () => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === '\n' || text[pos] === '\r')) pos++
  }
  const describe = (at: number) => (at >= text.length ? 'the end of the input' : `"${text[at]}"`)
  const expect = (char: string) => {
    if (text[pos] !== char) fail(`expected "${char}" but found ${describe(pos)}`)
    pos++
  }
  const string = () => {
    expect('"')
    for (;;) {
      if (pos >= text.length) fail('a string is never closed')
      const char = text[pos]!
      if (char === '"') {
        pos++
        return
      }
      if (char === '\\') {
        const next = text[pos + 1]
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) fail('a \\u escape needs four hex digits')
          pos += 6
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) pos += 2
        else fail(`invalid escape "\\${next ?? ''}" in a string`)
        continue
      }
      if (char < ' ') fail('a control character inside a string (escape it)')
      pos++
    }
  }
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400))
    if (!match || match[0] === '' || match[0] === '-') fail(`unexpected ${describe(pos)}`)
    pos += match![0].length
  }
  const value = (): void => {
    ws()
    const char = text[pos]
    if (char === '{') {
      if (++depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
      pos++
      ws()
      if (text[pos] === '}') {
        pos++
        depth--
        return
      }
      for (;;) {
        ws()
        if (text[pos] !== '"') fail(`expected a key in quotes but found ${describe(pos)}`)
        string()
        ws()
        expect(':')
        value()
        ws()
        if (text[pos] === ',') {
          pos++
          continue
        }
        if (text[pos] === '}') {
          pos++
          depth--
          return
        }
        fail(`expected "," or "}" but found ${describe(pos)}`)
      }
    }
    if (char === '[') {
      if (++depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
      pos++
      ws()
      if (text[pos] === ']') {
        pos++
        depth--
        return
      }
      for (;;) {
        value()
        ws()
        if (text[pos] === ',') {
          pos++
          continue
        }
        if (text[pos] === ']') {
          pos++
          depth--
          return
        }
        fail(`expected "," or "]" but found ${describe(pos)}`)
      }
    }
    if (char === '"') return string()
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, pos)) {
        pos += literal.length
        return
      }
    }
    number()
  }
  try {
    value()
    ws()
    if (pos < text.length) fail(`unexpected ${describe(pos)} after the JSON value`)
    return undefined
  } catch (error) {
    const at = (error as { at?: number }).at ?? pos
    return { ...positionAt(text, at), message: (error as Error).message }
  }
}

export function positionAt(text: string, offset: number): { line: number; col: number } {
  let line = 1
  let start = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++
      start = i + 1
    }
  }
  return { line, col: offset - start + 1 }
}
