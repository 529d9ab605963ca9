import { Args, Flags } from '@oclif/core'
import { withDatabase } from '../../src/db/index.js'
import { formatDuration } from '../../src/core/index.js'
import { OpsCommand, databaseConfigFlags, databaseFlags, durationFlag } from '../../src/cli/index.js'
import {
  DEFAULT_TIMEOUT_MS,
  explainPlanFile,
  explainStatement,
  readStatementInput,
  renderApplyStatements,
  renderExplainMarkdown,
  renderExplainReport,
} from '../../src/explain/index.js'

export default class DbExplain extends OpsCommand<typeof DbExplain> {
  static override summary =
    'Explain a query: where the time goes, what is wrong (with evidence), and which index would help (verified with HypoPG).'
  static override description =
    'Runs EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON) for exactly one statement inside a transaction that is always rolled back, ' +
    'so INSERT, UPDATE and DELETE change nothing (sequences excepted). Or reads an existing plan (JSON or text format) with --plan. ' +
    'Index candidates from the statement are tried as hypothetical indexes with HypoPG; if the extension is not installed but may be ' +
    'created, it is created inside the rolled-back transaction, so nothing is left behind. --apply prints the CREATE INDEX CONCURRENTLY ' +
    'statements and never runs them. Exit 2: bad statement or plan file; 3: database unreachable or permission denied; 4: timed out.'
  static override examples = [
    `<%= config.bin %> db explain "SELECT * FROM items WHERE sku = \\$1 ORDER BY id" --param SKU-00042`,
    '<%= config.bin %> db explain --file slow.sql --set work_mem=64kB --timeout 2m',
    '<%= config.bin %> db explain --plan plan.json --format markdown',
    `<%= config.bin %> db explain "SELECT * FROM items WHERE sku = 'x'" --apply | psql`,
  ]
  static override args = { statement: Args.string({ description: 'The SQL statement (or use --file, or stdin).' }) }
  static override flags = {
    file: Flags.string({ char: 'f', description: 'Read the statement from this file.', exclusive: ['plan'] }),
    plan: Flags.string({ description: 'Analyze an existing plan (EXPLAIN JSON or text output) instead of running a statement.' }),
    param: Flags.string({ char: 'p', multiple: true, description: 'Value of $1, $2, ... in order (repeat). Never printed.' }),
    set: Flags.string({
      multiple: true,
      description: 'Planner setting for this explain only, e.g. work_mem=64kB, enable_seqscan=off (repeat).',
    }),
    timeout: durationFlag({ description: `statement_timeout for the statement [default: ${formatDuration(DEFAULT_TIMEOUT_MS)}].` }),
    analyze: Flags.boolean({
      description: 'Run the statement (EXPLAIN ANALYZE); --no-analyze only plans it.',
      default: true,
      allowNo: true,
    }),
    verbose: Flags.boolean({ description: 'EXPLAIN VERBOSE: output columns and per-worker details.' }),
    advise: Flags.boolean({ description: 'Try index candidates with HypoPG (--no-advise skips it).', default: true, allowNo: true }),
    apply: Flags.boolean({
      description: 'Print only the CREATE INDEX CONCURRENTLY statements of the verified suggestions (never runs them).',
    }),
    format: Flags.string({ description: 'Human output format.', options: ['text', 'markdown'], default: 'text' }),
    ...databaseFlags,
  }
  static override configFlags = databaseConfigFlags

  async run() {
    const { flags } = this
    const report = flags.plan
      ? await explainPlanFile(flags.plan)
      : await this.explainLive(await readStatementInput({ argument: this.args.statement, file: flags.file }))
    const human = flags.apply ? renderApplyStatements : flags.format === 'markdown' ? renderExplainMarkdown : renderExplainReport
    return this.render(report, human)
  }

  private explainLive(sql: string) {
    const { flags } = this
    return withDatabase(
      this.settings,
      (database) =>
        explainStatement({
          url: database.url,
          databaseDescription: database.description,
          sql,
          params: flags.param ?? [],
          settings: flags.set ?? [],
          timeoutMs: flags.timeout,
          analyze: flags.analyze,
          verbose: flags.verbose,
          advise: flags.advise,
        }),
      { log: (message) => this.note(message) },
    )
  }
}
