// CPU and heap profiling under load: capture (V8's --cpu-prof and allocation sampling, 0x's flame
// graph), folded stacks, top functions, differential flame graphs and heap-snapshot leak hunting.
// Other modules import this file only.
export { profileTarget, DEFAULT_DURATION_MS, DEFAULT_START_TIMEOUT_MS, type ProfileFiles, type ProfileMode, type ProfileOptions, type ProfileRun, type ProfileTarget } from './capture.js'
export { findLeaks, type LeakHuntOptions, type LeakRun } from './leak-run.js'
export { diffProfileFiles, readProfileFile, resolveProfileFile, type DiffOptions, type DiffRun } from './diff-files.js'
export { serviceTarget, defaultProfileDir, KNOWN_SERVICES, type ServiceTarget } from './service-target.js'
export { driveLoad, type DriveLoadOptions, type LoadReport } from './load-driver.js'
export { expectedPort, loadUrlFor, type LoadSpec } from './load-target.js'
export { checkTargetCommand, isNodeCommand, startTarget, describeExit, TargetExitedError, type RunningTarget, type TargetExit } from './target.js'
export { explainFailure, type FailureFacts } from './failure.js'
export { renderWith0x, zeroXEntry } from './render-0x.js'
export { profileRunEvent } from './journal.js'
export { PRELOAD_SOURCE, writePreload, type PreloadCommand, type PreloadMessage } from './preload.js'
// pure cores
export { ANONYMOUS, describeFrame, displayFile, formatFrame, frameKind, functionKey, isFunctionFrame, parseFrame, type FrameKind, type FrameLocation } from './frames.js'
export { mergeStacks, stackProfile, withoutLeaves, type StackProfile, type StackUnit, type WeightedStack } from './stacks.js'
export { formatFolded, parseFolded } from './folded.js'
export {
  cpuProfileStacks,
  describeJsonError,
  frameLabel,
  parseCpuProfile,
  sampleCounts,
  trimCpuProfile,
  type CallFrame,
  type CpuProfile,
  type CpuProfileNode,
  type TimeWindow,
} from './cpuprofile.js'
export { heapProfileStacks, parseHeapProfile, type HeapProfile, type HeapProfileNode } from './heap-profile.js'
export { functionStats, isAppFrame, summarizeProfile, timeShares, type FunctionStat, type ProfileSummary, type TimeShares } from './summary.js'
export { diffProfiles, growthOver, onCpu, type FunctionChange, type FunctionShare, type ProfileDiff } from './diff.js'
export { buildDiffTree, buildFlameTree, escapeHtml, renderDiffFlameGraphHtml, renderFlameGraphHtml, type FlameNode } from './flamegraph-html.js'
export {
  computeDominators,
  constructorOf,
  entryCount,
  parseHeapSnapshot,
  retainingPath,
  shortestPathParents,
  type Dominators,
  type HeapGraph,
} from './heap-snapshot.js'
export { analyzeLeak, summarizeSuspect, DEFAULT_MIN_GROWTH_BYTES, type ConstructorGrowth, type LeakReport, type LeakSuspect, type RetainerStep } from './leak.js'
export { displayPath, renderDiffRun, renderLeakRun, renderProfileRun } from './render.js'
export { commandAfterDashes, profileInputs, scriptLabel, type ProfileFlagValues, type ProfileInputs } from './command-inputs.js'
export { createFrameMapper, mapCpuProfile, mapHeapProfile, parseSourceMapTable, type SourceMapTable } from './source-maps.js'
