import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

const created: string[] = []

/**
 * A fresh directory under the system temp folder, removed after the test file (whatever its
 * outcome): tests leave nothing behind in /tmp. Vitest isolates modules per test file, so each
 * file removes only the directories it made.
 */
export function makeTempDir(prefix = 'opsctl-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  created.push(dir)
  return dir
}

afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
})
