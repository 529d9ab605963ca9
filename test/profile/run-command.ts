// Runs one opsctl command class straight from its source file, as bin/dev.js would, without the
// command lookup: a stale oclif.manifest.json left by a build hides commands added since.
// Usage: node --import tsx test/profile/run-command.ts commands/profile/index.ts [args...]
import { handle } from '@oclif/core'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [file, ...argv] = process.argv.slice(2)
const root = resolve(import.meta.dirname, '../..')
const { default: command } = (await import(pathToFileURL(resolve(root, file!)).href)) as {
  default: { run(argv: string[], options: { root: string }): Promise<unknown> }
}
try {
  await command.run(argv, { root })
} catch (error) {
  await handle(error as Error)
}
