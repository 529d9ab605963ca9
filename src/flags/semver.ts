/**
 * Semantic versions for the SEMVER_* constraint operators: strict SemVer 2.0.0 as the `semver`
 * package parses it (an optional leading "v", no leading zeros, build metadata ignored when
 * comparing). Pure.
 */
export interface SemVer {
  major: number
  minor: number
  patch: number
  prerelease: Array<string | number>
}

const NUMERIC = '0|[1-9]\\d*'
const PRERELEASE_ID = `(?:${NUMERIC}|\\d*[a-zA-Z-][a-zA-Z0-9-]*)`
const FULL = new RegExp(
  `^v?(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
)

export function parseSemVer(text: string): SemVer | undefined {
  if (text.length > 256) return undefined
  const match = FULL.exec(text.trim())
  if (!match) return undefined
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])]
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined
  const prerelease = match[4] ? match[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : []
  return { major, minor, patch, prerelease }
}

export function compareSemVer(a: SemVer, b: SemVer): number {
  const main = a.major - b.major || a.minor - b.minor || a.patch - b.patch
  if (main !== 0) return Math.sign(main)
  if (a.prerelease.length === 0 || b.prerelease.length === 0)
    return b.prerelease.length - a.prerelease.length === 0 ? 0 : a.prerelease.length === 0 ? 1 : -1
  for (let i = 0; ; i++) {
    const x = a.prerelease[i]
    const y = b.prerelease[i]
    if (x === undefined && y === undefined) return 0
    if (x === undefined) return -1
    if (y === undefined) return 1
    if (x === y) continue
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1
    if (typeof x === 'number') return -1
    if (typeof y === 'number') return 1
    return x < y ? -1 : 1
  }
}
