// Statistics shared by load comparisons, the canary judge and the CI gate: rank tests (two samples
// and paired), effect sizes and bootstrap intervals. Pure functions over numbers.
export {
  bootstrapInterval,
  bootstrapIntervalOfOne,
  hodgesLehmannShift,
  mannWhitneyU,
  mean,
  median,
  quantile,
  type EffectMagnitude,
} from './statistics.js'
export { proportionTest } from './proportion.js'
export { hodgesLehmannCenter, smallestSignedRankP, wilcoxonSignedRank } from './signed-rank.js'
