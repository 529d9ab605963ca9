import type { Settings } from '../core/index.js'
import { loadOptionsFromFlags, type LoadCommandFlags } from './flag-values.js'
import { concludeLoad, runLoad, type LoadSource } from './load.js'
import { recordLoadRun } from './record.js'
import type { LoadResult } from './result.js'

/** What `opsctl load` and `opsctl load run` lend the run: their settings and output. */
export interface LoadCommandOutput {
  settings: Settings
  json: boolean
  note(message: string): void
  print(result: LoadResult): void
}

/**
 * `opsctl load URL` and `opsctl load run SCENARIO`: the run (progress on stderr, Ctrl-C stops it
 * cleanly), its `load.run` event in the journal, the report, then the exit verdict.
 */
export async function runLoadCommand(source: LoadSource, flags: LoadCommandFlags, output: LoadCommandOutput): Promise<LoadResult> {
  const result = await runLoad({ source, ...loadOptionsFromFlags(flags), progress: process.stderr, interruptible: true, note: output.note })
  await recordLoadRun(output.settings, result, output.note)
  output.print(result)
  return concludeLoad(result, { json: output.json, note: output.note })
}
