import { Flags } from '@oclif/core'
import { databaseConfigFlags, databaseFlags, durationFlag, OpsCommand } from '../src/cli/index.js'
import { badInput, isInteractive } from '../src/core/index.js'
import { collectOnce, dashboardActions, dashboardSources, renderSnapshot, runDashboard } from '../src/dashboard/index.js'

export default class Dashboard extends OpsCommand<typeof Dashboard> {
  static override summary =
    'The on-call screen: live traffic, the rollout, flags, open incidents, database pressure and the journal, with keys to act.'
  static override description = [
    'Panels refresh every --interval, each from its own source: the router (or HAProxy) per-backend numbers with',
    'sparklines, the running rollout and its last verdicts, flags per environment (stale ones marked), open incidents,',
    'connections, locks and top statements of the database, and the latest journal events. A source that stops',
    'answering turns its panel stale with the age of its last answer; one that is not set up says so.',
    'Keys: Tab focus, ↑ ↓ select, p promote / a abort the rollout, f kill the selected flag (each asks first),',
    'i declare an incident, n note on the selected incident, / filter, ? help, q quit. Actions go through the same',
    'module calls as the CLI commands and land in the journal with the same actor.',
    'Without a terminal, or in CI, or with --once: one text snapshot (--json: the same data).',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> dashboard',
    '<%= config.bin %> dashboard --interval 2s',
    '<%= config.bin %> dashboard --once',
    "<%= config.bin %> dashboard --once --json | jq '.traffic.data.backends'",
  ]
  static override flags = {
    interval: durationFlag({ description: 'Refresh every this long.', default: 1000 }),
    once: Flags.boolean({ description: 'Print one snapshot and exit (the default without a terminal or in CI).' }),
    ...databaseFlags,
  }
  static override configFlags = databaseConfigFlags

  async run() {
    const intervalMs = this.flags.interval
    if (intervalMs < 250) throw badInput(`--interval must be at least 250ms, not ${intervalMs}ms`)
    const sources = dashboardSources(this.settings, { intervalMs })
    try {
      const interactive = process.stdin.isTTY && process.stdout.isTTY && !process.env.CI && !this.flags.once && !this.jsonEnabled()
      if (!interactive) {
        const data = await collectOnce(sources, Math.max(5000, intervalMs * 2))
        return this.render(data, (value) => renderSnapshot(value))
      }
      const outcome = await runDashboard({
        sources,
        actions: dashboardActions(this.settings),
        poll: { intervalMs, intervals: { queries: Math.max(5000, intervalMs) } },
        colors: isInteractive(process.stdout),
      })
      return outcome === 'interrupted' ? this.interrupted(undefined) : undefined
    } finally {
      await sources.close()
    }
  }
}
