import { Args, Flags } from '@oclif/core'
import { OpsCommand, databaseConfigFlags, databaseFlags } from '../../../src/cli/index.js'
import { isInteractive } from '../../../src/core/index.js'
import { parsePid, renderSignalPlan, renderSignalResult, signalConfiguredSession } from '../../../src/activity/index.js'
import { terminalConfirm } from '../../../src/incident/index.js'

export default class DbActivityCancel extends OpsCommand<typeof DbActivityCancel> {
  static override summary =
    'Cancel the running statement of a database session (pg_cancel_backend), after confirmation; recorded in the journal.'
  static override description =
    'The session stays connected; its statement fails, and an open transaction rolls back (its locks are released, so a lock chain behind it frees). A session that runs nothing (idle, idle in transaction) is refused with exit 2: a cancel would do nothing there; use terminate. ' +
    'It asks on a terminal (or takes --yes); without a terminal and without --yes nothing is sent (exit 2). Refused with exit 3 when ' +
    'the role may not signal the session (it must be a superuser, a member of the session role, or of pg_signal_backend; superuser ' +
    'sessions only by superusers). The journal event db.cancel records who, which session (role, application, normalised statement) and when.'
  static override examples = [
    '<%= config.bin %> db activity cancel 4242',
    '<%= config.bin %> db activity cancel 4242 --yes --database-url postgres://admin@db/app',
  ]
  static override args = { pid: Args.string({ description: 'The session (pid) that opsctl db activity shows.', required: true }) }
  static override flags = {
    yes: Flags.boolean({ char: 'y', description: 'Send without asking (you have checked the session).' }),
    ...databaseFlags,
  }
  static override configFlags = databaseConfigFlags

  async run() {
    const colors = this.colors
    const interactive = process.stdin.isTTY && isInteractive(process.stderr, { ...process.env, NO_COLOR: undefined })
    const result = await signalConfiguredSession(
      this.settings,
      { action: 'cancel', pid: parsePid(this.args.pid), yes: this.flags.yes },
      {
        show: (plan) => (this.jsonEnabled() ? this.note(renderSignalPlan(plan, colors)) : this.log(renderSignalPlan(plan, colors))),
        ...(interactive ? { confirm: terminalConfirm(process.stdin, process.stderr) } : {}),
      },
      (message) => this.note(message),
    )
    return this.render(result, renderSignalResult)
  }
}
