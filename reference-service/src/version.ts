import { readFileSync } from 'node:fs'

/** reference-service/VERSION, seen from src/ (tsx) and from dist/reference-service/src/ (compiled). */
const CANDIDATES = ['../VERSION', '../../../reference-service/VERSION']

export function readServiceVersion(): string {
  for (const candidate of CANDIDATES) {
    try {
      const version = readFileSync(new URL(candidate, import.meta.url), 'utf8').trim()
      if (version) return version
    } catch {
      // try the next layout
    }
  }
  throw new Error(`reference-service/VERSION not found (looked in ${CANDIDATES.join(', ')} next to ${import.meta.url})`)
}
