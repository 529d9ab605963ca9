// Statistics shared by load comparisons, the canary judge and the CI gate: rank tests, effect
// sizes and bootstrap intervals. Pure functions over numbers.
export { bootstrapInterval, hodgesLehmannShift, mannWhitneyU, mean, median, quantile, type EffectMagnitude } from './statistics.js'
export { proportionTest } from './proportion.js'
