// The load module's one face: run load (quick form or scenario), read and compare results,
// and the pure cores (thresholds, statistics, arrival schedule, scenario checks) for other modules.
export { concludeLoad, interruptOnSignals, runLoad, planLoad, type LoadOptions, type LoadSource } from './load.js'
export { loadOptionsFromFlags, overridesFromFlags, parseHeaderFlags, parseMethodFlag, parseThresholdFlag, type LoadCommandFlags, type LoadFlagValues } from './flag-values.js'
export { runOnce, type RunOnceOptions } from './runner.js'
export { assembleResult, aggregateRuns, judgeValidity, loadFailure, summarize, verdictFailure, MAX_RATE_SHORTFALL } from './assemble.js'
export { buildPlan, quickScenario, autoWorkers, type PlanOverrides, type QuickForm } from './build-plan.js'
export { loadScenarioFile, parseScenarioText } from './scenario-file.js'
export { checkScenario, scenarioSchema, targetProblem, type Scenario, type ScenarioIssue } from './scenario.js'
export { isLoopbackAddress, probeTarget, resolveTarget } from './target.js'
export { readResultFile, writeResultFile } from './result-file.js'
export { compareResults, compareMetric, DEFAULT_COMPARE_OPTIONS, type Comparison, type CompareOptions, type ComparableResult, type MetricComparison, type Verdict } from './compare.js'
export {
  evaluateThreshold,
  evaluateThresholds,
  formatMetricValue,
  pointAt,
  tryParseThreshold,
  type Threshold,
  type ThresholdInputs,
  type ThresholdOutcome,
} from './thresholds.js'
export {
  bootstrapInterval,
  effectMagnitude,
  hodgesLehmannShift,
  mannWhitneyU,
  mean,
  median,
  normalCdf,
  quantile,
  quantileSorted,
  type BootstrapInterval,
  type MannWhitneyResult,
} from './statistics.js'
export {
  Pacer,
  arrivalDurationMs,
  arrivalTime,
  arrivalsBy,
  constantArrival,
  measuredLatency,
  rateAt,
  scaleArrival,
  totalArrivals,
  type ArrivalPlan,
  type PacerDecision,
  type RateStage,
} from './arrival.js'
export { parseCsv } from './csv.js'
export { checkBody, jsonBodyTemplate, looselyEqual, parseJsonPath, parseTemplate, renderTemplate, variableSource, type Template, type VariableSpec } from './template.js'
export { seededRandom } from './random.js'
export { Recorder, isSaturated, latencyStats, SATURATION_UTILIZATION, type LiveStats } from './recorder.js'
export { LoadAgent, Outcome, type AgentReport, type SampleBatch } from './agent.js'
export { chooseByWeight, compileRequest, cumulativeWeights, type LoadPlan, type RequestSpec, type Target } from './plan.js'
export { createLoadProgress, describeModel, renderComparison, renderLoadResult } from './render.js'
export { RESULT_KIND, RESULT_VERSION, type LoadResult, type LoadSummary, type RunStats, type SecondStats, type Validity } from './result.js'
export { recordLoadRun } from './record.js'
export { runLoadCommand, type LoadCommandOutput } from './command.js'
