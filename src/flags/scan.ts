/**
 * Finds the flags code asks about: calls of the Unleash SDKs' isEnabled / getVariant (and their
 * spellings in other languages and the React hooks) with a literal name, or with a constant
 * defined as a literal somewhere in the scanned code. Pure: text in, references out. Names
 * that are computed at run time cannot be known; they are counted, not guessed.
 */

export interface FlagReference {
  flag: string
  file: string
  line: number
  call: string
}

export interface SourceScan {
  references: FlagReference[]
  /** Calls whose argument is an identifier, resolved against constants later. */
  identifiers: Array<{ identifier: string; file: string; line: number; call: string }>
  /** `const NAME = 'literal'` (and `NAME = "literal"` in Python-like code). */
  constants: Array<{ name: string; value: string }>
  /** Calls with a name built at run time (a template with ${...}, a concatenation). */
  dynamic: number
}

export const SDK_CALLS = [
  'isEnabled',
  'getVariant',
  'is_enabled',
  'get_variant',
  'IsEnabled',
  'GetVariant',
  'useFlag',
  'useVariant',
  'isEnabledAsync',
]

const CALL = new RegExp(
  `(?<![\\w$])(${SDK_CALLS.join('|')})\\s*\\(\\s*(?:(["'\`])((?:\\\\.|(?!\\2)[^\\\\\\n])*)\\2(\\s*[+])?|([A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)*))`,
  'g',
)
/** Ways code names a flag once: `const X = 'a'`, `final String X = "a"`, `X = "a"` (Python), `{ X: 'a' }` (upper-case keys). */
const CONSTANTS = [
  /\b(?:const|let|var|val|readonly)\s+([A-Za-z_$][\w$]*)\s*(?::[^=\n]*)?=\s*(["'`])([^"'`\\\n$]*)\2/g,
  /\bfinal\s+String\s+([A-Za-z_$][\w$]*)\s*=\s*(")([^"\\\n]*)\2/g,
  /^[ \t]*([A-Z][A-Z0-9_]*)\s*(?::\s*\w+)?\s*=\s*(["'])([^"'\\\n]*)\2/gm,
  /(?<![\w$])([A-Z][A-Z0-9_]*)\s*:\s*(["'])([^"'\\\n]*)\2/g,
]

export function scanSource(text: string, file: string): SourceScan {
  const scan: SourceScan = { references: [], identifiers: [], constants: [], dynamic: 0 }
  const lineStarts = lineOffsets(text)
  for (const match of text.matchAll(CALL)) {
    const call = match[1]!
    const line = lineOf(lineStarts, match.index)
    if (match[2] !== undefined) {
      const literal = match[3] ?? ''
      if (match[4] !== undefined || (match[2] === '`' && literal.includes('${')) || literal === '') scan.dynamic++
      else scan.references.push({ flag: unescape(literal), file, line, call })
    } else if (match[5] !== undefined) {
      scan.identifiers.push({ identifier: match[5], file, line, call })
    }
  }
  for (const pattern of CONSTANTS) for (const match of text.matchAll(pattern)) scan.constants.push({ name: match[1]!, value: match[3]! })
  return scan
}

export interface ResolvedReferences {
  references: FlagReference[]
  /** Calls with a run-time name, and identifiers no single constant explains. */
  unresolved: number
}

/**
 * References of all scanned files, with identifiers resolved through the constants of all of
 * them (`FLAGS.EAGER` through `EAGER`). An identifier bound to two different literals, or to
 * none, is not guessed at.
 */
export function resolveReferences(scans: readonly SourceScan[]): ResolvedReferences {
  const values = new Map<string, Set<string>>()
  for (const scan of scans) {
    for (const constant of scan.constants) {
      const set = values.get(constant.name) ?? new Set<string>()
      set.add(constant.value)
      values.set(constant.name, set)
    }
  }
  const references = scans.flatMap((scan) => scan.references)
  let unresolved = scans.reduce((sum, scan) => sum + scan.dynamic, 0)
  for (const scan of scans) {
    for (const identifier of scan.identifiers) {
      const last = identifier.identifier.split('.').at(-1)!
      const candidates = values.get(last)
      const [value] = candidates ?? []
      if (candidates?.size === 1 && value)
        references.push({ flag: value, file: identifier.file, line: identifier.line, call: identifier.call })
      else unresolved++
    }
  }
  references.sort((a, b) => a.flag.localeCompare(b.flag) || a.file.localeCompare(b.file) || a.line - b.line)
  return { references, unresolved }
}

function lineOffsets(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

function lineOf(starts: readonly number[], offset: number): number {
  let low = 0
  let high = starts.length - 1
  while (low < high) {
    const middle = (low + high + 1) >> 1
    if (starts[middle]! <= offset) low = middle
    else high = middle - 1
  }
  return low + 1
}

function unescape(literal: string): string {
  return literal.replace(/\\(.)/g, '$1')
}
