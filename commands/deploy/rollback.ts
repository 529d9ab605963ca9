import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { actOnRollout, actionVerdict, renderAction } from '../../src/deploy/index.js'
import { rolloutArgs, selectFlags } from './status.js'

export default class DeployRollback extends OpsCommand<typeof DeployRollback> {
  static override summary =
    'Roll back: the running rollout, or the last promoted canary or blue/green switch (instant while the old side is kept).'
  static override description =
    'A canary goes to weight 0 and is drained; a blue/green rollout switches back to the side it kept. Through the controller if one runs, else directly. Recorded in the ops journal.'
  static override examples = [
    '<%= config.bin %> deploy rollback',
    '<%= config.bin %> deploy rollback --service api',
    '<%= config.bin %> deploy rollback api-3 --json',
  ]
  static override args = rolloutArgs
  static override flags = {
    ...selectFlags,
    reason: Flags.string({ description: 'Why (kept in the journal).' }),
  }

  async run() {
    const result = await actOnRollout(
      this.settings,
      'rollback',
      { id: this.args.rollout, service: this.flags.service, reason: this.flags.reason },
      { log: (message) => this.note(message) },
    )
    this.render(result, renderAction)
    return this.conclude(result, actionVerdict(result))
  }
}
