export { startDemo, type DemoSummary } from './demo.js'
export { referenceServiceCommand } from './service-process.js'
export { renderDemoStarted, renderDemoStopped } from './render.js'
