/**
 * Walks source directories for `flags stale` and hands each file to the pure scanner. Skips
 * dependencies, build output, tests (which name flags on purpose) and files over 1 MB, and
 * counts what it skipped.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join, relative } from 'node:path'
import { resolveReferences, scanSource, type ResolvedReferences, type SourceScan } from './scan.js'

export const CODE_EXTENSIONS = new Set([
  '.ts',
  '.tsx',
  '.mts',
  '.cts',
  '.js',
  '.jsx',
  '.mjs',
  '.cjs',
  '.vue',
  '.svelte',
  '.py',
  '.go',
  '.java',
  '.kt',
  '.rb',
  '.cs',
  '.php',
  '.rs',
  '.swift',
  '.dart',
])
export const IGNORED_DIRECTORIES = new Set([
  'node_modules',
  'dist',
  'build',
  'out',
  'coverage',
  'vendor',
  'target',
  '.git',
  '.opsctl',
  '.next',
  '.cache',
  'test',
  'tests',
  '__tests__',
  'spec',
  'fixtures',
])
const TEST_FILE = /\.(test|spec)\.[a-z]+$|_test\.(go|py)$|^test_.*\.py$/
const MAX_FILE_BYTES = 1024 * 1024

export interface CodeScan extends ResolvedReferences {
  files: number
  skipped: { large: number; unreadable: number }
}

export async function scanCodeDirectories(directories: readonly string[], rootDir: string): Promise<CodeScan> {
  const scans: SourceScan[] = []
  const skipped = { large: 0, unreadable: 0 }
  let files = 0
  const visit = async (path: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(path, { withFileTypes: true })
    } catch {
      skipped.unreadable++
      return
    }
    for (const entry of entries) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) {
        if (!IGNORED_DIRECTORIES.has(entry.name) && !entry.name.startsWith('.')) await visit(full)
        continue
      }
      if (!entry.isFile() || !CODE_EXTENSIONS.has(extname(entry.name)) || TEST_FILE.test(entry.name)) continue
      try {
        if ((await stat(full)).size > MAX_FILE_BYTES) {
          skipped.large++
          continue
        }
        scans.push(scanSource(await readFile(full, 'utf8'), relative(rootDir, full) || full))
        files++
      } catch {
        skipped.unreadable++
      }
    }
  }
  for (const directory of directories) await visit(directory)
  return { ...resolveReferences(scans), files, skipped }
}
