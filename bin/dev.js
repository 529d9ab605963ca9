#!/usr/bin/env node
// Development entry point: oclif registers tsx and runs the TypeScript sources, no build needed.
import { fileURLToPath } from 'node:url'
import { Config, Plugin, flush, handle, run } from '@oclif/core'

// oclif maps dist/ back to sources once for the commands folder, then again for each command
// file it already mapped; with our top-level commands/ the second lookup fails harmlessly and
// warns. Drop only that warning (and its stack) so dev output matches the built CLI's.
const write = process.stderr.write.bind(process.stderr)
let droppingStack = false
process.stderr.write = (chunk, ...rest) => {
  const text = String(chunk)
  if (/Could not find source for/.test(text)) droppingStack = !/Defaulting to compiled source/.test(text)
  else if (droppingStack && /^(\s+at |\s*›)/.test(text)) droppingStack = !/Defaulting to compiled source/.test(text)
  else return write(chunk, ...rest)
  return true
}

// The manifest that `npm run build` writes describes dist/; in development the sources are the
// truth, so the root plugin is loaded without it (a stale manifest would run stale code).
process.env.NODE_ENV = 'development'
const root = fileURLToPath(new URL('..', import.meta.url))
const plugin = new Plugin({ root, isRoot: true, ignoreManifest: true })
await plugin.load()
const config = await Config.load({ root, plugins: new Map([[plugin.name, plugin]]) })
await run(process.argv.slice(2), config)
  .then(() => flush())
  .catch((error) => handle(error))
