import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { actOnRollout, actionVerdict, renderAction } from '../../src/deploy/index.js'
import { rolloutArgs, selectFlags } from './status.js'

export default class DeployPromote extends OpsCommand<typeof DeployPromote> {
  static override summary = 'Move a running canary to its next step now (--full: straight to 100%).'
  static override description =
    'Asks the rollout’s controller (the opsctl deploy canary process, in any terminal) and waits for its answer. ' +
    'A step held "until promoted" (25:promote in --steps) waits for this. Recorded in the ops journal.'
  static override examples = [
    '<%= config.bin %> deploy promote',
    '<%= config.bin %> deploy promote api-3 --full --reason "verified by hand"',
  ]
  static override args = rolloutArgs
  static override flags = {
    ...selectFlags,
    full: Flags.boolean({ description: 'Skip the remaining steps: all traffic to the new version.' }),
    reason: Flags.string({ description: 'Why (kept in the journal).' }),
  }

  async run() {
    const result = await actOnRollout(
      this.settings,
      'promote',
      { id: this.args.rollout, service: this.flags.service, reason: this.flags.reason, full: this.flags.full },
      { log: (message) => this.note(message) },
    )
    this.render(result, renderAction)
    return this.conclude(result, actionVerdict(result))
  }
}
