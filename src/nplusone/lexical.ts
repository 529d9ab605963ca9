/**
 * A small SQL lexer for two jobs the real parser is too slow or too strict for:
 *
 * - `lexicalKey`: a cache key under which statements that differ only in literal values,
 *   parameter numbers, comments, whitespace and keyword case collapse. Two statements with
 *   the same key differ only in things the libpg-query fingerprint ignores, so one parse
 *   serves them all, even when every statement in a log carries different literals.
 * - `lexicalNormalize`: the labelled fallback normalisation for statements the parser
 *   rejects: literals become $n, comments go, whitespace collapses.
 *
 * It understands '...' (with '' and E'\'' escapes), $tag$...$tag$, "identifiers",
 * -- and nested /* *\/ comments, numbers, and $n parameters.
 */

/** Stands for a literal or parameter in a key; a control character no SQL text contains. */
const LITERAL = '\u0001'

const enum Char {
  Tab = 9,
  Newline = 10,
  Return = 13,
  Space = 32,
  DoubleQuote = 34,
  Dollar = 36,
  Quote = 39,
  Star = 42,
  Dash = 45,
  Dot = 46,
  Slash = 47,
  Zero = 48,
  Nine = 57,
  UpperA = 65,
  UpperZ = 90,
  Backslash = 92,
  Underscore = 95,
  LowerA = 97,
  LowerZ = 122,
}

function isSpace(code: number): boolean {
  return code === Char.Space || code === Char.Newline || code === Char.Tab || code === Char.Return || code === 12 || code === 11
}

function isDigit(code: number): boolean {
  return code >= Char.Zero && code <= Char.Nine
}

function isIdentifierPart(code: number): boolean {
  return (
    (code >= Char.LowerA && code <= Char.LowerZ) ||
    (code >= Char.UpperA && code <= Char.UpperZ) ||
    isDigit(code) ||
    code === Char.Underscore ||
    code === Char.Dollar ||
    code > 127
  )
}

/** End (exclusive) of a '...' string starting at `start` (the quote); backslashes escape when `escapes`. */
function endOfString(sql: string, start: number, escapes: boolean): number {
  let i = start + 1
  const length = sql.length
  while (i < length) {
    const code = sql.charCodeAt(i)
    if (escapes && code === Char.Backslash) {
      i += 2
      continue
    }
    if (code === Char.Quote) {
      if (sql.charCodeAt(i + 1) === Char.Quote) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return length
}

/** End (exclusive) of a "quoted identifier". */
function endOfQuotedIdentifier(sql: string, start: number): number {
  let i = start + 1
  while (i < sql.length) {
    if (sql.charCodeAt(i) === Char.DoubleQuote) {
      if (sql.charCodeAt(i + 1) === Char.DoubleQuote) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return sql.length
}

/** End (exclusive) of a /* comment *\/, which nests in PostgreSQL. */
function endOfBlockComment(sql: string, start: number): number {
  let depth = 0
  let i = start
  while (i < sql.length) {
    const code = sql.charCodeAt(i)
    if (code === Char.Slash && sql.charCodeAt(i + 1) === Char.Star) {
      depth++
      i += 2
    } else if (code === Char.Star && sql.charCodeAt(i + 1) === Char.Slash) {
      depth--
      i += 2
      if (depth === 0) return i
    } else i++
  }
  return sql.length
}

/** A $tag$ opening at `start`, or undefined when this `$` is not one ($1 or an identifier's $). */
function dollarTag(sql: string, start: number): string | undefined {
  let i = start + 1
  while (i < sql.length) {
    const code = sql.charCodeAt(i)
    if (code === Char.Dollar) return sql.slice(start, i + 1)
    if (!(isIdentifierPart(code) && code !== Char.Dollar) || (i === start + 1 && isDigit(code))) return undefined
    i++
  }
  return undefined
}

/** End (exclusive) of a number starting at `start`: 42, 4.2, .5, 1e-3, 0x1F, 1_000. */
function endOfNumber(sql: string, start: number): number {
  let i = start
  const length = sql.length
  if (sql.charCodeAt(i) === Char.Zero && (sql.charCodeAt(i + 1) | 32) === 120) {
    i += 2
    while (i < length && isIdentifierPart(sql.charCodeAt(i)) && sql.charCodeAt(i) !== Char.Dollar) i++
    return i
  }
  while (i < length) {
    const code = sql.charCodeAt(i)
    if (isDigit(code) || code === Char.Underscore || code === Char.Dot) {
      i++
    } else if (
      (code | 32) === 101 &&
      (isDigit(sql.charCodeAt(i + 1)) ||
        ((sql.charCodeAt(i + 1) === 43 || sql.charCodeAt(i + 1) === Char.Dash) && isDigit(sql.charCodeAt(i + 2))))
    ) {
      i += 2
    } else break
  }
  return i
}

/** Length of a string prefix right before the quote at `quote`: E'..', B'..', X'..', N'..' (1) or U&'..' (2), else 0. */
function stringPrefixLength(sql: string, quote: number): number {
  const standsAlone = (at: number) => at < 0 || !isIdentifierPart(sql.charCodeAt(at))
  const previous = sql.charCodeAt(quote - 1) | 32
  if ((previous === 101 || previous === 98 || previous === 120 || previous === 110) && standsAlone(quote - 2)) return 1
  if (sql.charCodeAt(quote - 1) === 38 && (sql.charCodeAt(quote - 2) | 32) === 117 && standsAlone(quote - 3)) return 2
  return 0
}

export interface LexicalScan {
  /** Cache key: literals and parameters as one marker, comments dropped, whitespace collapsed, unquoted text lower-cased. */
  key: string
  /** For the fallback: literals and parameters as $1, $2...; comments dropped; whitespace collapsed; case kept. */
  normalized: string
}

/**
 * Scans `sql` once. `withNormalized` also builds the display form, which the hot path
 * (a cache lookup per log line) does not need.
 */
function scan(sql: string, withNormalized: boolean): LexicalScan {
  let key = ''
  let normalized = ''
  let parameter = 0
  let pendingSpace = false
  let i = 0
  const length = sql.length
  // Start of the identifier or keyword being read, to recognise E'..' and friends.
  let wordStart = -1

  const emit = (keyPart: string, normalizedPart: string) => {
    if (pendingSpace && key.length > 0) {
      key += ' '
      if (withNormalized) normalized += ' '
    }
    pendingSpace = false
    key += keyPart
    if (withNormalized) normalized += normalizedPart
  }
  const emitLiteral = () => {
    parameter++
    emit(LITERAL, withNormalized ? `$${parameter}` : '')
  }

  while (i < length) {
    const code = sql.charCodeAt(i)
    if (isSpace(code)) {
      pendingSpace = true
      wordStart = -1
      i++
      continue
    }
    if (code === Char.Dash && sql.charCodeAt(i + 1) === Char.Dash) {
      const end = sql.indexOf('\n', i)
      i = end === -1 ? length : end + 1
      pendingSpace = true
      wordStart = -1
      continue
    }
    if (code === Char.Slash && sql.charCodeAt(i + 1) === Char.Star) {
      i = endOfBlockComment(sql, i)
      pendingSpace = true
      wordStart = -1
      continue
    }
    if (code === Char.Quote) {
      // E'..' and similar prefixes were emitted as a word: take them back.
      const prefix = pendingSpace ? 0 : stringPrefixLength(sql, i)
      if (prefix > 0) {
        key = key.slice(0, key.length - prefix)
        if (withNormalized) normalized = normalized.slice(0, normalized.length - prefix)
      }
      const escapes = prefix === 1 && (sql.charCodeAt(i - 1) | 32) === 101
      i = endOfString(sql, i, escapes)
      emitLiteral()
      wordStart = -1
      continue
    }
    if (code === Char.DoubleQuote) {
      const end = endOfQuotedIdentifier(sql, i)
      const text = sql.slice(i, end)
      emit(text, text)
      i = end
      wordStart = -1
      continue
    }
    if (code === Char.Dollar && wordStart < 0) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        i++
        while (i < length && isDigit(sql.charCodeAt(i))) i++
        emitLiteral()
        continue
      }
      const tag = dollarTag(sql, i)
      if (tag !== undefined) {
        const close = sql.indexOf(tag, i + tag.length)
        i = close === -1 ? length : close + tag.length
        emitLiteral()
        continue
      }
    }
    if (wordStart < 0 && (isDigit(code) || (code === Char.Dot && isDigit(sql.charCodeAt(i + 1))))) {
      i = endOfNumber(sql, i)
      emitLiteral()
      continue
    }
    if (isIdentifierPart(code)) {
      // A whole word at once: lower-cased for the key (unquoted names fold to lower case anyway).
      let end = i + 1
      while (end < length && isIdentifierPart(sql.charCodeAt(end))) end++
      const word = sql.slice(i, end)
      if (wordStart < 0) wordStart = i
      emit(word.toLowerCase(), word)
      i = end
      continue
    }
    // Operators and punctuation, one character at a time; no space is implied between them.
    const char = sql[i]!
    emit(char, char)
    wordStart = -1
    i++
  }
  return { key, normalized }
}

export function lexicalKey(sql: string): string {
  return scan(sql, false).key
}

export function lexicalNormalize(sql: string): string {
  return scan(sql, true).normalized
}

/** Comments dropped and whitespace collapsed, literals kept: for showing parser-normalised SQL on one line. */
export function tidySql(sql: string): string {
  let out = ''
  let pendingSpace = false
  let i = 0
  const length = sql.length
  const append = (text: string) => {
    if (pendingSpace && out.length > 0) out += ' '
    pendingSpace = false
    out += text
  }
  while (i < length) {
    const code = sql.charCodeAt(i)
    if (isSpace(code)) {
      pendingSpace = true
      i++
    } else if (code === Char.Dash && sql.charCodeAt(i + 1) === Char.Dash) {
      const end = sql.indexOf('\n', i)
      i = end === -1 ? length : end + 1
      pendingSpace = true
    } else if (code === Char.Slash && sql.charCodeAt(i + 1) === Char.Star) {
      i = endOfBlockComment(sql, i)
      pendingSpace = true
    } else if (code === Char.Quote) {
      const end = endOfString(sql, i, false)
      append(sql.slice(i, end))
      i = end
    } else if (code === Char.DoubleQuote) {
      const end = endOfQuotedIdentifier(sql, i)
      append(sql.slice(i, end))
      i = end
    } else {
      let end = i + 1
      while (end < length) {
        const next = sql.charCodeAt(end)
        if (isSpace(next) || next === Char.Quote || next === Char.DoubleQuote || next === Char.Dash || next === Char.Slash) break
        end++
      }
      append(sql.slice(i, end))
      i = end
    }
  }
  return out
}

/**
 * A copy of `text` that does not keep the string it was cut from alive. Substrings and regex
 * captures of a log line point into the whole 1MB block the line came from; a cache key or a
 * session id kept from it would keep every block in memory. Copy what is kept.
 */
export function detach(text: string): string {
  return (' ' + text).slice(1)
}

/** FNV-1a, 64 bits, as 16 hex digits: the fallback fingerprint of statements the parser rejects. */
export function hash64(text: string): string {
  let h1 = 0x811c9dc5
  let h2 = 0xcbf29ce4
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ code, 0x01000193) >>> 0
    h2 = Math.imul(h2 ^ (code + i), 0x01000193) >>> 0
  }
  return h2.toString(16).padStart(8, '0') + h1.toString(16).padStart(8, '0')
}

/** The raw literal texts of a statement, in order: the "parameters" of a simple-protocol statement, for --show-params. */
export function literalValues(sql: string): string[] {
  const values: string[] = []
  let i = 0
  let wordStart = -1
  while (i < sql.length) {
    const code = sql.charCodeAt(i)
    if (code === Char.Quote) {
      const prefix = stringPrefixLength(sql, i)
      const end = endOfString(sql, i, prefix === 1 && (sql.charCodeAt(i - 1) | 32) === 101)
      values.push(sql.slice(i - prefix, end))
      i = end
      wordStart = -1
    } else if (code === Char.DoubleQuote) {
      i = endOfQuotedIdentifier(sql, i)
      wordStart = -1
    } else if (code === Char.Dash && sql.charCodeAt(i + 1) === Char.Dash) {
      const end = sql.indexOf('\n', i)
      i = end === -1 ? sql.length : end + 1
      wordStart = -1
    } else if (code === Char.Slash && sql.charCodeAt(i + 1) === Char.Star) {
      i = endOfBlockComment(sql, i)
      wordStart = -1
    } else if (wordStart < 0 && (isDigit(code) || (code === Char.Dot && isDigit(sql.charCodeAt(i + 1))))) {
      const end = endOfNumber(sql, i)
      values.push(sql.slice(i, end))
      i = end
    } else if (isIdentifierPart(code) && code !== Char.Dollar) {
      if (wordStart < 0) wordStart = i
      i++
    } else {
      wordStart = -1
      i++
    }
  }
  return values
}
