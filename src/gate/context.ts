import type { ProgressListener, Settings } from '../core/index.js'
import type { ServiceSpec } from './service.js'

/** What every check gets from the gate run. */
export interface CheckContext {
  settings: Settings
  /** opsctl.yaml's directory: relative paths in the budget are resolved from it. */
  rootDir: string
  baselineDir: string
  /** This run's evidence files (flame-graph diffs, plan diffs, profiles). */
  outDir: string
  updateBaseline: boolean
  /** Where the service under test answers, when the gate started it (or gate.service.url). */
  serviceUrl?: string
  service?: ServiceSpec
  /** Where the reference build answers (gate.reference), when the gate started it for side-by-side comparisons. */
  referenceUrl?: string
  /** The live N+1 hook's query log of the service the gate started. */
  queryLog?: string
  /** The last lines the service printed, once the gate has stopped it. */
  serviceOutput?: string[]
  signal: AbortSignal
  note(message: string): void
  onProgress?: ProgressListener
}
