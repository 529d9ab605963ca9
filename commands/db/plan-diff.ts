import { Args, Flags } from '@oclif/core'
import { openDatabase } from '../../src/db/index.js'
import { ExitCode, badInput, parseDuration } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'
import { diffAgainstBaseline, diffPlanFiles, readStatementInput, renderPlanDiff, renderPlanDiffMarkdown } from '../../src/explain/index.js'

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
    timeout: Flags.string({ description: 'With --baseline: statement_timeout.', default: '30s' }),
    analyze: Flags.boolean({ description: 'With --baseline: run the statement (--no-analyze only plans it).', default: true, allowNo: true }),
    'max-cost-ratio': Flags.string({ description: 'Largest allowed AFTER/BEFORE total cost.', default: '1.5' }),
    'max-time-ratio': Flags.string({ description: 'Largest allowed AFTER/BEFORE execution time.', default: '2' }),
    'min-time': Flags.string({ description: 'A slower time counts only if it grew by at least this much.', default: '1ms' }),
    format: Flags.string({ description: 'Human output format.', options: ['text', 'markdown'], default: 'text' }),
    'database-url': Flags.string({ description: 'PostgreSQL to use instead of the embedded database.', env: 'DATABASE_URL' }),
  }
  static override configFlags = { 'database-url': 'database.url' }

  async run() {
    const { flags, args } = this
    const rules = { maxCostRatio: ratio(flags['max-cost-ratio'], '--max-cost-ratio'), maxTimeRatio: ratio(flags['max-time-ratio'], '--max-time-ratio'), minTimeMs: parseDuration(flags['min-time'], '--min-time') }
    let diff
    if (flags.baseline) {
      if (args.after !== undefined) throw badInput('With --baseline, give only the statement (or --file), not a second plan file')
      const sql = await readStatementInput({ argument: args.before, file: flags.file })
      const { config, stateDir } = this.settings
      const database = await openDatabase({ url: config.database.url, stateDir, port: config.database.embeddedPort, log: (message) => this.note(message) })
      try {
        const statement = { url: database.url, databaseDescription: database.description, sql, params: flags.param ?? [], settings: flags.set ?? [], timeoutMs: parseDuration(flags.timeout, '--timeout'), analyze: flags.analyze }
        diff = await diffAgainstBaseline(flags.baseline, statement, rules)
      } finally {
        await database.close()
      }
    } else {
      if (args.before === undefined || args.after === undefined) throw badInput('Give two plan files (BEFORE AFTER), or --baseline FILE with a statement', 'opsctl db plan-diff before.json after.json')
      diff = await diffPlanFiles(args.before, args.after, rules)
    }
    this.render(diff, flags.format === 'markdown' ? renderPlanDiffMarkdown : renderPlanDiff)
    if (diff.regression) {
      this.note(`Plan regression: ${diff.regressions.join('; ')}`)
      process.exitCode = ExitCode.CheckFailed
    }
    return diff
  }
}

function ratio(text: string, flag: string): number {
  const value = Number(text)
  if (!(value >= 1)) throw badInput(`${flag} must be a number of at least 1, got "${text}"`)
  return value
}
