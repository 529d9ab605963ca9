import { Flags } from '@oclif/core'
import { OpsCommand, databaseConfigFlags, databaseFlags, durationFlag } from '../../../src/cli/index.js'
import { badInput, isInteractive } from '../../../src/core/index.js'
import {
  FINDING_KINDS,
  activityOptions,
  activityVerdict,
  renderActivity,
  watchInterval,
  withActivitySource,
  type FindingKind,
} from '../../../src/activity/index.js'

export default class DbActivity extends OpsCommand<typeof DbActivity> {
  static override summary =
    'Who is connected, who is waiting, and on whom: connections, lock chains, pool pressure, top statements, and what to change.'
  static override description =
    'One snapshot of pg_stat_activity (by state, application, role, client, against max_connections minus reserved slots), lock chains from ' +
    'pg_locks and pg_blocking_pids() as trees from each root blocker, the service pool from its /metrics, PgBouncer SHOW POOLS, and ' +
    'pg_stat_statements by total time. Statements are shown normalised (parameter values as $n). Findings are information (exit 0) unless ' +
    '--fail-on names their kind (exit 1). A role without superuser or pg_read_all_stats sees what it may and is told what it could not. ' +
    '--watch refreshes in place (q quits); it needs a terminal, and without one prints one snapshot. See docs/activity.md.'
  static override examples = [
    '<%= config.bin %> db activity',
    '<%= config.bin %> db activity --watch --interval 1s',
    '<%= config.bin %> db activity --metrics-url http://127.0.0.1:3000/metrics --pgbouncer-url postgres://pgbouncer@127.0.0.1:6432/pgbouncer',
    '<%= config.bin %> db activity --json | jq .lockTrees',
    '<%= config.bin %> db activity --fail-on lock-chain --fail-on idle-in-transaction',
  ]
  static override flags = {
    watch: Flags.boolean({ char: 'w', description: 'Refresh in place like top (q quits); needs a terminal.', exclusive: ['json'] }),
    interval: durationFlag({ description: 'Refresh interval of --watch [default: from config key activity.interval].' }),
    'idle-in-transaction': durationFlag({
      description: 'Idle-in-transaction age that is a finding [default: activity.idleInTransaction].',
    }),
    'long-query': durationFlag({ description: 'Statement run time that is a finding [default: activity.longQuery].' }),
    'lock-wait': durationFlag({ description: 'Lock wait that makes a chain a finding [default: activity.lockWait].' }),
    'metrics-url': Flags.string({
      description: "The service's /metrics with pg_pool_* gauges [default: activity.metricsUrl, or service.url/metrics].",
    }),
    'pgbouncer-url': Flags.string({ description: 'PgBouncer admin console for SHOW POOLS [default: activity.pgbouncerUrl].' }),
    limit: Flags.integer({ min: 1, max: 1000, description: 'Rows per list [default: activity.limit].' }),
    'fail-on': Flags.string({
      multiple: true,
      options: [...FINDING_KINDS],
      description: 'Exit 1 when a finding of this kind is present (repeat).',
    }),
    ...databaseFlags,
  }
  static override configFlags = databaseConfigFlags

  async run() {
    const { flags } = this
    const options = activityOptions(this.settings, {
      idleInTransactionMs: flags['idle-in-transaction'],
      longQueryMs: flags['long-query'],
      lockWaitMs: flags['lock-wait'],
      limit: flags.limit,
      metricsUrl: flags['metrics-url'],
      pgbouncerUrl: flags['pgbouncer-url'],
    })
    const log = (message: string) => this.note(message)
    if (flags.watch && process.stdin.isTTY && process.stdout.isTTY) {
      const intervalMs = flags.interval ?? watchInterval(this.settings)
      if (intervalMs < 100) throw badInput(`--interval must be at least 100ms, not ${intervalMs}ms`)
      const colors = isInteractive(process.stdout)
      // Ink and React load only for the watch view: a snapshot starts without them.
      const { runActivityWatch } = await import('../../../src/dashboard/index.js')
      const outcome = await withActivitySource(
        this.settings,
        options,
        (source) => runActivityWatch({ load: () => source.snapshot(), intervalMs, colors }),
        log,
      )
      return outcome.reason === 'interrupted' ? this.interrupted(outcome.last) : outcome.last
    }
    if (flags.watch) this.note('--watch needs a terminal (stdin and stdout); printing one snapshot instead.')
    const snapshot = await withActivitySource(this.settings, options, (source) => source.snapshot(), log)
    this.render(snapshot, renderActivity)
    return this.conclude(snapshot, activityVerdict(snapshot, (flags['fail-on'] ?? []) as FindingKind[]))
  }
}
