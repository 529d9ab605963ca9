/**
 * Whole-file replacement that never leaves half a file: write a temporary file beside the
 * target, flush it, rename it over the target. Readers (the flag server's hot reload) see the
 * old file or the new one, nothing in between.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { environmentError } from '../core/index.js'

export interface AtomicWriteOptions {
  /** Refuse to replace the file if it no longer holds this text (someone else changed it meanwhile). */
  expected?: string
  /** Permissions of a new file (an existing file keeps its own). */
  mode?: number
}

export async function writeFileAtomic(file: string, text: string, options: AtomicWriteOptions = {}): Promise<void> {
  const directory = dirname(file)
  await mkdir(directory, { recursive: true })
  const mode = await stat(file).then(
    (info) => info.mode & 0o777,
    () => options.mode ?? 0o644,
  )
  const temporary = join(directory, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const handle = await open(temporary, 'wx', mode)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    if (options.expected !== undefined) {
      const current = await readFile(file, 'utf8').catch(() => undefined)
      if (current !== options.expected) {
        throw environmentError(
          `${file} changed while this change was being made; nothing was written`,
          'Run the command again: it reads the file afresh.',
        )
      }
    }
    await rename(temporary, file)
  } catch (error) {
    await unlink(temporary).catch(() => {})
    throw error
  }
}
