#!/usr/bin/env node
// Development entry point: oclif registers tsx and runs the TypeScript sources, no build needed.
import { execute } from '@oclif/core'

// oclif maps dist/ back to sources once for the commands folder, then again for each command
// file it already mapped; with our top-level commands/ the second lookup fails harmlessly and
// warns. Drop only that warning (and its stack) so dev output matches the built CLI's.
const write = process.stderr.write.bind(process.stderr)
let droppingStack = false
process.stderr.write = (chunk, ...rest) => {
  const text = String(chunk)
  if (text.startsWith('Warning: Could not find source for ')) droppingStack = true
  else if (!/^\s+at /.test(text)) droppingStack = false
  return droppingStack ? true : write(chunk, ...rest)
}

await execute({ development: true, dir: import.meta.url })
