import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { actOnRollout, actionVerdict, renderAction } from '../../src/deploy/index.js'
import { rolloutArgs, selectFlags } from './status.js'

export default class DeployAbort extends OpsCommand<typeof DeployAbort> {
  static override summary = 'Stop a rollout and send all traffic back to the old version (the new one is drained).'
  static override description =
    "Through its controller if one runs, else directly (taking the rollout's lock). Rollback hooks run; --kill-flag of the rollout is applied. Recorded in the ops journal."
  static override examples = ['<%= config.bin %> deploy abort', '<%= config.bin %> deploy abort api-3 --reason "wrong build"']
  static override args = rolloutArgs
  static override flags = {
    ...selectFlags,
    reason: Flags.string({ description: 'Why (kept in the journal).' }),
  }

  async run() {
    const result = await actOnRollout(
      this.settings,
      'abort',
      { id: this.args.rollout, service: this.flags.service, reason: this.flags.reason },
      { log: (message) => this.note(message) },
    )
    this.render(result, renderAction)
    return this.conclude(result, actionVerdict(result))
  }
}
