// CPU and heap profiling under load: capture (V8's --cpu-prof and allocation sampling, 0x's flame
// graph), folded stacks, top functions, differential flame graphs and heap-snapshot leak hunting.
// Other modules and commands import this file only, and only what they use is here; tests and
// benches import the module's files directly.
export { profileTarget } from './capture.js'
export { findLeaks } from './leak-run.js'
export { diffProfileFiles } from './diff-files.js'
export { defaultProfileDir } from './service-target.js'
export { isNodeCommand } from './target.js'
export { renderDiffRun, renderLeakRun, renderProfileRun } from './render.js'
export { commandAfterDashes, parseRequestRate, profileInputs } from './command-inputs.js'
