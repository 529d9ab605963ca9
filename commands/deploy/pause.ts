import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { actOnRollout, actionVerdict, renderAction } from '../../src/deploy/index.js'
import { rolloutArgs, selectFlags } from './status.js'

export default class DeployPause extends OpsCommand<typeof DeployPause> {
  static override summary = 'Pause a rollout where it is: weights stay, analysis stops until deploy resume.'
  static override description = 'Asks the running controller; without one, pauses the saved state directly. Recorded in the ops journal.'
  static override examples = ['<%= config.bin %> deploy pause', '<%= config.bin %> deploy pause api-3 --reason "checking a dashboard"']
  static override args = rolloutArgs
  static override flags = {
    ...selectFlags,
    reason: Flags.string({ description: 'Why (kept in the journal).' }),
  }

  async run() {
    const result = await actOnRollout(
      this.settings,
      'pause',
      { id: this.args.rollout, service: this.flags.service, reason: this.flags.reason },
      { log: (message) => this.note(message) },
    )
    this.render(result, renderAction)
    return this.conclude(result, actionVerdict(result))
  }
}
