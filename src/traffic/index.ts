// Traffic control: the built-in router and HAProxy behind one interface (TrafficControl).
export {
  OUTCOME_CLASSES,
  type AdminState,
  type BackendHealth,
  type BackendStats,
  type BackendWindow,
  type DrainOptions,
  type DrainResult,
  type LatencySummary,
  type OutcomeClass,
  type OutcomeCounts,
  type PoolView,
  type SampleRequest,
  type SampleWindow,
  type TrafficChange,
  type TrafficControl,
  type TrafficSnapshot,
} from './control.js'
export { routerClient, type RouterClientOptions } from './admin-client.js'
export { haproxyTraffic, type HaproxyOptions } from './haproxy.js'
export {
  HAPROXY_LOG_FORMAT,
  listenHaproxyLog,
  parseHaproxyLogLine,
  type HaproxyLogListener,
  type HaproxyLogOptions,
} from './haproxy-log.js'
export { buildTopology, parseBackendSpec, parseRouteSpec, type BackendSpec, type RouteSpec, type Topology } from './topology.js'
export { haproxyConfig, serverAddress, type HaproxyConfigOptions } from './haproxy-config.js'
export { startRouter, type HealthCheckOptions, type RouterOptions, type RunningRouterHandle } from './router.js'
export {
  haproxyConfigFor,
  journalRecorder,
  routerStartPlan,
  trafficControlFor,
  type ControlHandle,
  type ControlRequest,
  type HaproxyConfigRequest,
  type RouterStartRequest,
} from './options.js'
export { drainBackend, routerStatus, runRouter, setRouterWeights, undrainBackend, type RouterRun } from './manage.js'
export {
  renderDrain,
  renderRouterStarted,
  renderRouterStatus,
  renderState,
  renderWeights,
  type RouterStarted,
  type RouterStatus,
} from './render.js'
export { routerEvents } from './events.js'
