import type { ProgressListener, Settings } from '../core/index.js'
import { loadOptionsFromFlags, type LoadCommandFlags } from './flag-values.js'
import { runLoad, type LoadSource } from './load.js'
import { recordLoadRun } from './record.js'
import type { LoadResult } from './result.js'

/** What `opsctl load` and `opsctl load run` lend the run: their settings, output and Ctrl-C. */
export interface LoadCommandOutput {
  settings: Settings
  note(message: string): void
  progress: ProgressListener
  signal: AbortSignal
}

/**
 * `opsctl load URL` and `opsctl load run SCENARIO`: the run (progress through the command, Ctrl-C
 * stops it cleanly), then its `load.run` event in the journal. The command renders and concludes.
 */
export async function runRecordedLoad(source: LoadSource, flags: LoadCommandFlags, output: LoadCommandOutput): Promise<LoadResult> {
  const result = await runLoad({
    source,
    ...loadOptionsFromFlags(flags),
    onProgress: output.progress,
    signal: output.signal,
    note: output.note,
  })
  await recordLoadRun(output.settings, result, output.note)
  return result
}
