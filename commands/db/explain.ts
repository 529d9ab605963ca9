import { Args, Flags } from '@oclif/core'
import { openDatabase } from '../../src/db/index.js'
import { parseDuration } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'
import {
  explainPlanFile,
  explainStatement,
  readStatementInput,
  renderApplyStatements,
  renderExplainMarkdown,
  renderExplainReport,
} from '../../src/explain/index.js'

export default class DbExplain extends OpsCommand<typeof DbExplain> {
  static override summary = 'Explain a query: where the time goes, what is wrong (with evidence), and which index would help (verified with HypoPG).'
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
    set: Flags.string({ multiple: true, description: 'Planner setting for this explain only, e.g. work_mem=64kB, enable_seqscan=off (repeat).' }),
    timeout: Flags.string({ description: 'statement_timeout for the statement.', default: '30s' }),
    analyze: Flags.boolean({ description: 'Run the statement (EXPLAIN ANALYZE); --no-analyze only plans it.', default: true, allowNo: true }),
    verbose: Flags.boolean({ description: 'EXPLAIN VERBOSE: output columns and per-worker details.' }),
    advise: Flags.boolean({ description: 'Try index candidates with HypoPG (--no-advise skips it).', default: true, allowNo: true }),
    apply: Flags.boolean({ description: 'Print only the CREATE INDEX CONCURRENTLY statements of the verified suggestions (never runs them).' }),
    format: Flags.string({ description: 'Human output format.', options: ['text', 'markdown'], default: 'text' }),
    'database-url': Flags.string({ description: 'PostgreSQL to use instead of the embedded database.', env: 'DATABASE_URL' }),
  }
  static override configFlags = { 'database-url': 'database.url' }

  async run() {
    const { flags } = this
    const report = flags.plan
      ? await explainPlanFile(flags.plan)
      : await this.explainLive(await readStatementInput({ argument: this.args.statement, file: flags.file }))
    const human = flags.apply ? renderApplyStatements : flags.format === 'markdown' ? renderExplainMarkdown : renderExplainReport
    return this.render(report, human)
  }

  private async explainLive(sql: string) {
    const timeoutMs = parseDuration(this.flags.timeout, '--timeout')
    const { config, stateDir } = this.settings
    const database = await openDatabase({ url: config.database.url, stateDir, port: config.database.embeddedPort, log: (message) => this.note(message) })
    try {
      return await explainStatement({
        url: database.url,
        databaseDescription: database.description,
        sql,
        params: this.flags.param ?? [],
        settings: this.flags.set ?? [],
        timeoutMs,
        analyze: this.flags.analyze,
        verbose: this.flags.verbose,
        advise: this.flags.advise,
      })
    } finally {
      await database.close()
    }
  }
}
