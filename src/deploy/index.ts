// Progressive delivery: canary (with a statistical judge and automatic rollback), strangler fig,
// blue/green and rolling rollouts over the traffic module. What commands use; tests import the internals.
export { deployEvents } from './events.js'
export { runCanary, type CanaryRequest } from './canary.js'
export { runBlueGreen, type BlueGreenRequest } from './bluegreen.js'
export { runRolling, type RollingRequest } from './rolling.js'
export {
  actOnRollout,
  actionVerdict,
  pickRollout,
  resumeRollout,
  rolloutHistory,
  rolloutStatus,
  type ActionResult,
  type HistoryEntry,
  type StatusReport,
} from './manage.js'
export { rolloutVerdict, type ControllerIO, type RolloutRun } from './controller.js'
export { renderAction, renderHistory, renderRun, renderStatus } from './render.js'
export { judgeCanary, type CanaryJudgement, type JudgedMetric } from './judge.js'
export { type Rollout } from './rollout.js'
