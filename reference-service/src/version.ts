import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository, seen from src/ (tsx) and from dist/reference-service/src/ (compiled). */
const LAYOUTS = ['../../', '../../../']

/** The repository root: the live hook shows call sites relative to it, wherever the service runs. */
export function repositoryRoot(): string | undefined {
  for (const layout of LAYOUTS) {
    const dir = fileURLToPath(new URL(layout, import.meta.url))
    if (existsSync(join(dir, 'reference-service', 'VERSION'))) return dir
  }
  return undefined
}

export function readServiceVersion(): string {
  const root = repositoryRoot()
  const version = root === undefined ? '' : readFileSync(join(root, 'reference-service', 'VERSION'), 'utf8').trim()
  if (!version) throw new Error(`reference-service/VERSION not found or empty (looked in ${LAYOUTS.join(', ')} from ${import.meta.url})`)
  return version
}
