import { Args, Flags } from '@oclif/core'
import { withDatabase } from '../../src/db/index.js'
import { badInput, formatDuration } from '../../src/core/index.js'
import { OpsCommand, databaseConfigFlags, databaseFlags, durationFlag } from '../../src/cli/index.js'
import {
  DEFAULT_DIFF_RULES,
  DEFAULT_TIMEOUT_MS,
  diffAgainstBaseline,
  diffPlanFiles,
  planDiffVerdict,
  readStatementInput,
  renderPlanDiff,
  renderPlanDiffMarkdown,
} from '../../src/explain/index.js'

export default class DbPlanDiff extends OpsCommand<typeof DbPlanDiff> {
  static override summary = 'Compare two plans of a query and fail (exit 1) on a regression.'
  static override description =
    'Shows the access paths and node types that changed (Index Scan became Seq Scan), cost and time ratios, and new findings. ' +
    'A regression (exit 1) is: total cost above --max-cost-ratio x BEFORE; or, when both plans were analyzed, execution time above ' +
    '--max-time-ratio x BEFORE and at least --min-time more; or a new finding of warning or critical severity. ' +
    'With --baseline FILE the AFTER plan is the statement (argument, --file or stdin) explained now, in a rolled-back transaction.'
  static override examples = [
    '<%= config.bin %> db plan-diff before.json after.json',
    `<%= config.bin %> db plan-diff --baseline plans/items-by-sku.json "SELECT * FROM items WHERE sku = \\$1" --param SKU-00042`,
  ]
  static override args = {
    before: Args.string({ description: 'Plan file before (or, with --baseline, the statement).' }),
    after: Args.string({ description: 'Plan file after.' }),
  }
  static override flags = {
    baseline: Flags.string({ description: 'Baseline plan file to compare the live statement with.' }),
    file: Flags.string({ char: 'f', description: 'With --baseline: read the statement from this file.' }),
    param: Flags.string({ char: 'p', multiple: true, description: 'With --baseline: value of $1, $2, ... (repeat). Never printed.' }),
    set: Flags.string({ multiple: true, description: 'With --baseline: planner setting for the explain, e.g. work_mem=64kB.' }),
    timeout: durationFlag({ description: `With --baseline: statement_timeout [default: ${formatDuration(DEFAULT_TIMEOUT_MS)}].` }),
    analyze: Flags.boolean({
      description: 'With --baseline: run the statement (--no-analyze only plans it).',
      default: true,
      allowNo: true,
    }),
    'max-cost-ratio': Flags.string({
      description: `Largest allowed AFTER/BEFORE total cost [default: ${DEFAULT_DIFF_RULES.maxCostRatio}].`,
    }),
    'max-time-ratio': Flags.string({
      description: `Largest allowed AFTER/BEFORE execution time [default: ${DEFAULT_DIFF_RULES.maxTimeRatio}].`,
    }),
    'min-time': durationFlag({
      description: `A slower time counts only if it grew by at least this much [default: ${formatDuration(DEFAULT_DIFF_RULES.minTimeMs)}].`,
    }),
    format: Flags.string({ description: 'Human output format.', options: ['text', 'markdown'], default: 'text' }),
    ...databaseFlags,
  }
  static override configFlags = databaseConfigFlags

  async run() {
    const { flags } = this
    const rules = {
      ...(flags['max-cost-ratio'] !== undefined ? { maxCostRatio: ratio(flags['max-cost-ratio'], '--max-cost-ratio') } : {}),
      ...(flags['max-time-ratio'] !== undefined ? { maxTimeRatio: ratio(flags['max-time-ratio'], '--max-time-ratio') } : {}),
      ...(flags['min-time'] !== undefined ? { minTimeMs: flags['min-time'] } : {}),
    }
    const diff = flags.baseline ? await this.diffAgainstStatement(flags.baseline, rules) : await diffPlanFiles(...this.planFiles(), rules)
    this.render(diff, flags.format === 'markdown' ? renderPlanDiffMarkdown : renderPlanDiff)
    return this.conclude(diff, planDiffVerdict(diff))
  }

  private planFiles(): [string, string] {
    const { before, after } = this.args
    if (before === undefined || after === undefined)
      throw badInput(
        'Give two plan files (BEFORE AFTER), or --baseline FILE with a statement',
        'opsctl db plan-diff before.json after.json',
      )
    return [before, after]
  }

  private async diffAgainstStatement(baseline: string, rules: Parameters<typeof diffAgainstBaseline>[2]) {
    const { flags, args } = this
    if (args.after !== undefined) throw badInput('With --baseline, give only the statement (or --file), not a second plan file')
    const sql = await readStatementInput({ argument: args.before, file: flags.file })
    const statement = { sql, params: flags.param ?? [], settings: flags.set ?? [], timeoutMs: flags.timeout, analyze: flags.analyze }
    return withDatabase(
      this.settings,
      (database) => diffAgainstBaseline(baseline, { ...statement, url: database.url, databaseDescription: database.description }, rules),
      { log: (message) => this.note(message) },
    )
  }
}

function ratio(text: string, flag: string): number {
  const value = Number(text)
  if (!(value >= 1)) throw badInput(`${flag} must be a number of at least 1, got "${text}"`)
  return value
}
