/**
 * Secrets never reach output: passwords in connection URLs, tokens, and values of
 * keys that name a secret. Applied to every line and JSON document a command prints.
 */
export const REDACTED = '***'

const SECRET_KEY = /^(password|passwd|pwd|secret|token|api[-_]?key|apitoken|api[-_]?token|authorization|auth[-_]?token|access[-_]?token|client[-_]?secret|private[-_]?key|cookie)$/i

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s@/]+)@/gi
const KEY_VALUE = /\b([\w-]*?(?:password|passwd|pwd|secret|token|api[-_]?key))(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;]+)/gi
const BEARER = /\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/g
const URL_SECRET_PARAM = /([?&](?:password|token|api[-_]?key|access_token|secret|sig|signature)=)[^&#\s]+/gi

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

/** Redacts secrets inside free text (URLs with passwords, key=value pairs, bearer tokens). */
export function redactText(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1:${REDACTED}@`)
    .replace(URL_SECRET_PARAM, `$1${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(KEY_VALUE, (_match, key: string, sep: string) => `${key}${sep}${REDACTED}`)
}

/** Deep copy of a value with secret-named keys replaced and secrets in strings redacted. */
export function redactValue<T>(value: T): T {
  return redactAny(value, new WeakSet()) as T
}

function redactAny(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value)
  if (value === null || typeof value !== 'object') return value
  if (seen.has(value)) return '[circular]'
  seen.add(value)
  if (Array.isArray(value)) return value.map((item) => redactAny(item, seen))
  if (value instanceof Date) return value
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) && item !== null && item !== undefined && item !== '' ? REDACTED : redactAny(item, seen)
  }
  return out
}
