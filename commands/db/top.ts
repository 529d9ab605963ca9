import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderTopReport, summarizeStatements, type ReportFormat, type TopSort } from '../../src/nplusone/index.js'

export default class DbTop extends OpsCommand<typeof DbTop> {
  static override summary = 'Statements by total time, calls, mean and p95, and errors, from PostgreSQL logs or traces (pgBadger-style).'
  static override description =
    'Statements are grouped by their libpg-query fingerprint and shown normalised (literals and parameters as $n). ' +
    'Errors are grouped by SQLSTATE and message, with values masked.'
  static override examples = [
    '<%= config.bin %> db top --log /var/log/postgresql/postgresql-15-main.log',
    "<%= config.bin %> db top --log 'pg-*.json' --sort p95 --limit 10 --format markdown",
    '<%= config.bin %> db top --otlp traces.json --json',
  ]
  static override flags = {
    log: Flags.string({ multiple: true, description: 'PostgreSQL server log (stderr, csvlog or jsonlog; .gz; globs; - for stdin).' }),
    otlp: Flags.string({ multiple: true, description: 'OTLP JSON traces.' }),
    'service-log': Flags.string({ multiple: true, description: 'Query log written by the live hook.' }),
    prefix: Flags.string({
      description: "log_line_prefix of stderr logs, in PostgreSQL's % escapes [default: from config key nplusone.logLinePrefix].",
    }),
    'log-format': Flags.string({
      options: ['auto', 'stderr', 'csvlog', 'jsonlog'],
      default: 'auto',
      description: 'Format of --log files.',
    }),
    sort: Flags.string({ options: ['total', 'calls', 'mean', 'p95'], default: 'total', description: 'Order of the statements.' }),
    limit: Flags.integer({ min: 1, default: 20, description: 'Statements (and error kinds) to show.' }),
    format: Flags.string({ options: ['table', 'markdown'], default: 'table', description: 'Human output format.' }),
  }

  async run() {
    const { flags } = this
    const report = await summarizeStatements(
      { logs: flags.log ?? [], otlp: flags.otlp ?? [], serviceLogs: flags['service-log'] ?? [] },
      {
        prefix: flags.prefix ?? this.settings.config.nplusone.logLinePrefix,
        logFormat: flags['log-format'] as 'auto',
        onProgress: this.progress,
        limit: flags.limit,
        sortBy: flags.sort as TopSort,
      },
    )
    for (const warning of report.warnings) this.note(`Warning: ${warning}`)
    return this.render(report, (result, colors) => renderTopReport(result, colors, flags.format as ReportFormat))
  }
}
