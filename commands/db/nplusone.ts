import { Flags } from '@oclif/core'
import { OpsCommand, durationFlag } from '../../src/cli/index.js'
import { findNPlusOne, nplusoneOptions, nplusoneVerdict, renderNPlusOneReport, type ReportFormat } from '../../src/nplusone/index.js'

export default class DbNplusone extends OpsCommand<typeof DbNplusone> {
  static override summary = 'Find N+1 query patterns in PostgreSQL logs, OpenTelemetry traces or a service query log.'
  static override description =
    'An N+1 is one statement executed at least --min-repeats times in one unit of work (a request, a trace, or a database session ' +
    'between transaction boundaries and idle gaps), differing only in parameters. Each pattern comes with every unit it occurred in ' +
    '(request id, trace and span id, or session, process id and time span) and its count there, the statement that produced the ids, ' +
    'the call site when known, and the batched form of the statement. Parameter values are never shown unless --show-params.'
  static override examples = [
    '<%= config.bin %> db nplusone --log /var/log/postgresql/postgresql-15-main.log',
    "<%= config.bin %> db nplusone --log 'logs/postgresql-*.csv.gz' --max 0",
    '<%= config.bin %> db nplusone --otlp traces.jsonl --format markdown',
    "<%= config.bin %> db nplusone --otlp traces.jsonl --json --max-occurrences 1000 | jq '.patterns[].occurrences[] | .traceId'",
    'zcat postgresql.log.gz | <%= config.bin %> db nplusone --log - --prefix "%t [%p]: user=%u,db=%d "',
  ]
  static override flags = {
    log: Flags.string({ multiple: true, description: 'PostgreSQL server log (stderr, csvlog or jsonlog; .gz; globs; - for stdin).' }),
    otlp: Flags.string({
      multiple: true,
      description: 'OTLP JSON traces: an ExportTraceServiceRequest document or Collector file-exporter JSON lines.',
    }),
    'service-log': Flags.string({
      multiple: true,
      description: 'Query log written by the live hook (instrumentPg + createJsonLinesSink).',
    }),
    prefix: Flags.string({
      description: "log_line_prefix of stderr logs, in PostgreSQL's % escapes [default: from config key nplusone.logLinePrefix].",
    }),
    'log-format': Flags.string({
      options: ['auto', 'stderr', 'csvlog', 'jsonlog'],
      default: 'auto',
      description: 'Format of --log files.',
    }),
    'min-repeats': Flags.integer({
      min: 2,
      description: 'Executions in one unit that make an N+1 [default: from config key nplusone.minRepeats].',
    }),
    'min-total': durationFlag({ description: 'Minimum total time of the repeats in one unit, e.g. 5ms [default: nplusone.minTotal].' }),
    'idle-gap': durationFlag({ description: 'A pause that ends a unit of work in a session, e.g. 50ms [default: nplusone.idleGap].' }),
    ignore: Flags.string({ multiple: true, description: 'Fingerprint or SQL glob to ignore (repeatable; added to nplusone.ignore).' }),
    'show-params': Flags.boolean({ description: 'Show sample parameter values (they may be personal data).' }),
    'max-occurrences': Flags.integer({
      min: 0,
      description: 'Occurrences listed per pattern, most repeats first; the rest are counted [default: nplusone.maxOccurrences].',
    }),
    max: Flags.integer({ min: 0, description: 'Fail (exit 1) when more than this many distinct patterns are found.' }),
    format: Flags.string({ options: ['table', 'markdown'], default: 'table', description: 'Human output format.' }),
  }

  async run() {
    const { flags } = this
    const options = nplusoneOptions(
      {
        ignore: flags.ignore,
        minRepeats: flags['min-repeats'],
        minTotalMs: flags['min-total'],
        idleGapMs: flags['idle-gap'],
        maxOccurrences: flags['max-occurrences'],
        showParams: flags['show-params'],
        logLinePrefix: flags.prefix,
      },
      this.settings.config.nplusone,
    )
    const report = await findNPlusOne(
      { logs: flags.log ?? [], otlp: flags.otlp ?? [], serviceLogs: flags['service-log'] ?? [] },
      { ...options, logFormat: flags['log-format'] as 'auto', onProgress: this.progress },
    )
    for (const warning of report.warnings) this.note(`Warning: ${warning}`)
    const outcome = nplusoneVerdict(report, flags.max)
    const result = flags.max === undefined ? report : { ...report, budget: { max: flags.max, exceeded: outcome.status === 'fail' } }
    this.render(result, (data, colors) => renderNPlusOneReport(data, colors, flags.format as ReportFormat))
    return this.conclude(result, outcome)
  }
}
