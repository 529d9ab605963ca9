/**
 * Secrets never reach output: passwords in connection URLs, tokens, secret-named keys and flags.
 * Redaction works on data, before anything is rendered (redactValue on a result, redactText on
 * one string value), so that it can never break the syntax of a JSON, HTML or Markdown document:
 * a pattern here only ever replaces the secret itself, never a quote, bracket or delimiter around it.
 */
export const REDACTED = '***'

const SECRET_WORD = 'password|passwd|pwd|secret|token|api[-_]?key|apitoken|api[-_]?token|access[-_]?key'
const SECRET_KEY = new RegExp(
  `^(${SECRET_WORD}|authorization|auth[-_]?token|access[-_]?token|client[-_]?secret|private[-_]?key|cookie|set-cookie)$`,
  'i',
)

/** A secret written without quotes ends before whitespace, a separator, a quote or a bracket. */
const BARE_VALUE = `[^\\s&,;"'()\\[\\]{}<>]+`

/** scheme://user:PASSWORD@host */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"<>]*):([^\s@/'"<>]+)@/gi
/** Authorization: Bearer X / Basic X, in any case. */
const AUTH_SCHEME = /\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi
/** `token abc123...` as some APIs write it (the word must be lowercase or capitalised, the value token-like). */
const TOKEN_WORD = /\b([Tt]oken)(\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}/g
/** ?token=X&... in URLs. */
const URL_SECRET_PARAM = /([?&;](?:password|passwd|token|api[-_]?key|access_token|secret|sig|signature|auth)=)[^&#\s'"<>]+/gi
/**
 * key=value and key: value, the key possibly quoted (`"password": "x"` inside free text), the
 * value quoted or bare. A quoted value keeps its quotes; a bare value stops before any quote,
 * bracket or separator, so a closing `"`, `)` or `}` after it is never eaten.
 */
const KEY_VALUE = new RegExp(
  `(["']?)\\b([\\w.-]*?(?:${SECRET_WORD}))\\1(\\s*[=:]\\s*)(?:"((?:[^"\\\\]|\\\\.)*)"|'([^']*)'|(${BARE_VALUE}))`,
  'gi',
)
/** --password x, --api-key x (the `=` form is KEY_VALUE's). */
const FLAG_VALUE = new RegExp(`(--[\\w-]*(?:${SECRET_WORD}))(\\s+)(?!-)("[^"]*"|'[^']*'|${BARE_VALUE})`, 'gi')
/** mysql -pSECRET (the password glued to -p); -p5432 stays, it is a port elsewhere. */
const MYSQL_COMMAND = /\b(mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mariadb(?:-dump|-admin)?)\b/
const GLUED_P = /(\s-p)(?!\d+(?:\s|$))([^\s"']+)/g

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

/** Redacts secrets inside one piece of free text (URLs with passwords, key=value pairs, tokens, flags). */
export function redactText(text: string): string {
  if (text.length === 0) return text
  let out = text
    .replace(URL_CREDENTIALS, `$1:${REDACTED}@`)
    .replace(URL_SECRET_PARAM, `$1${REDACTED}`)
    .replace(AUTH_SCHEME, `$1$2${REDACTED}`)
    .replace(TOKEN_WORD, `$1$2${REDACTED}`)
    .replace(FLAG_VALUE, (_match, flag: string, space: string, value: string) => `${flag}${space}${quoteLike(value)}`)
    .replace(KEY_VALUE, (match, quote: string, key: string, separator: string, dq?: string, sq?: string, bare?: string) => {
      if (bare !== undefined && bare === REDACTED) return match
      const value = dq !== undefined ? `"${REDACTED}"` : sq !== undefined ? `'${REDACTED}'` : REDACTED
      return `${quote}${key}${quote}${separator}${value}`
    })
  if (MYSQL_COMMAND.test(out)) {
    out = out
      .split('\n')
      .map((line) => (MYSQL_COMMAND.test(line) ? line.replace(GLUED_P, `$1${REDACTED}`) : line))
      .join('\n')
  }
  return out
}

/** A redacted value that keeps the quotes it had. */
function quoteLike(value: string): string {
  if (value.startsWith('"')) return `"${REDACTED}"`
  if (value.startsWith("'")) return `'${REDACTED}'`
  return REDACTED
}

/**
 * A deep copy of a value with secret-named keys replaced and secrets in strings redacted. An
 * object reached twice (shared, not a cycle) is copied both times; only a true cycle (an object
 * inside itself) becomes "[circular]". Values with toJSON are redacted as JSON.stringify would
 * print them; Dates are kept as they are.
 */
export function redactValue<T>(value: T): T {
  return redactAny(value, new Set()) as T
}

function redactAny(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return redactText(value)
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Date) return value
  if (ancestors.has(value)) return '[circular]'
  const withJson = value as { toJSON?: () => unknown }
  if (typeof withJson.toJSON === 'function') {
    const json = withJson.toJSON()
    if (json !== value) {
      ancestors.add(value)
      try {
        return redactAny(json, ancestors)
      } finally {
        ancestors.delete(value)
      }
    }
  }
  ancestors.add(value)
  try {
    if (Array.isArray(value)) return value.map((item) => redactAny(item, ancestors))
    if (value instanceof Map)
      return new Map([...value].map(([k, item]) => [k, isSecretKey(String(k)) ? REDACTED : redactAny(item, ancestors)]))
    if (value instanceof Set) return new Set([...value].map((item) => redactAny(item, ancestors)))
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value
    // a class instance keeps its prototype (renderers may call its methods); a plain object stays plain
    const out = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSecretKey(key) && item !== null && item !== undefined && item !== '' ? REDACTED : redactAny(item, ancestors)
    }
    return out
  } finally {
    ancestors.delete(value)
  }
}
