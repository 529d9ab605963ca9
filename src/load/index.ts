// The load module's face: run load (quick form or scenario), its verdict, read and compare
// results. Statistics live in src/stats; tests import the internals directly.
export { runLoad, type LoadSource } from './load.js'
export { parseHeaderFlags, parseMethodFlag, parseThresholdFlag, type LoadCommandFlags } from './flag-values.js'
export { comparisonVerdict, loadVerdict } from './assemble.js'
export { loadScenarioFile } from './scenario-file.js'

export { readResultFile, writeResultFile } from './result-file.js'
export { compareResults } from './compare.js'
export { type Threshold, type ThresholdOutcome } from './thresholds.js'

export { renderComparison, renderLoadResult } from './render.js'
export { type LoadResult } from './result.js'

export { runRecordedLoad } from './recorded-run.js'
export { DEFAULT_DURATION_MS, DEFAULT_TIMEOUT_MS } from './scenario.js'
