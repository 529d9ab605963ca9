import { Args } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { compareResults, comparisonVerdict, readResultFile, renderComparison } from '../../src/load/index.js'

export default class LoadCompare extends OpsCommand<typeof LoadCompare> {
  static override summary =
    'Compare two load results: "regressed" (exit 1), "improved" or "no significant change", from a statistical test.'
  static override description =
    'Per-second medians and p99s of every run on each side are compared with the Mann–Whitney U test; a change counts only when it is ' +
    "significant (p < 0.01), at least a medium effect (Cliff's δ ≥ 0.33) and at least 5%. Too few samples is inconclusive (exit 4)."
  static override examples = ['<%= config.bin %> load compare before.json after.json']
  static override args = {
    baseline: Args.string({ description: 'The earlier result (opsctl load ... --out).', required: true }),
    current: Args.string({ description: 'The result to judge.', required: true }),
  }

  async run() {
    const comparison = compareResults(readResultFile(this.args.baseline), readResultFile(this.args.current))
    this.render(comparison, renderComparison)
    return this.conclude(comparison, comparisonVerdict(comparison))
  }
}
