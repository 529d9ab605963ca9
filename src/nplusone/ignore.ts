import { badInput } from '../core/index.js'
import type { QueryIdentity } from './identity.js'

const FINGERPRINT = /^(lex:)?[0-9a-f]{16}$/i

export type IgnoreMatcher = (identity: QueryIdentity) => boolean

/**
 * An ignore list entry is a fingerprint (16 hex digits, as printed) or a glob over the
 * normalised SQL: `*` any text, `?` one character; case and runs of whitespace do not matter.
 */
export function compileIgnoreList(entries: readonly string[] = []): IgnoreMatcher {
  const fingerprints = new Set<string>()
  const globs: RegExp[] = []
  for (const raw of entries) {
    const entry = raw.trim()
    if (entry === '')
      throw badInput(
        'An empty ignore entry matches nothing',
        'Give a fingerprint such as 8455793027f67b58 or a glob such as "SELECT * FROM settings*".',
      )
    if (FINGERPRINT.test(entry)) fingerprints.add(entry.toLowerCase())
    else globs.push(globToRegExp(entry))
  }
  if (fingerprints.size === 0 && globs.length === 0) return () => false
  const cache = new Map<string, boolean>()
  return (identity) => {
    let ignored = cache.get(identity.fingerprint)
    if (ignored === undefined) {
      const sql = squash(identity.sql)
      ignored = fingerprints.has(identity.fingerprint.toLowerCase()) || globs.some((glob) => glob.test(sql))
      cache.set(identity.fingerprint, ignored)
    }
    return ignored
  }
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toLowerCase()
}

function globToRegExp(glob: string): RegExp {
  let source = ''
  for (const char of squash(glob)) {
    if (char === '*') source += '.*'
    else if (char === '?') source += '.'
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 's')
}
