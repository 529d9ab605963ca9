import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderStatus, rolloutStatus } from '../../src/deploy/index.js'

/** The rollout a command acts on: its id, else the only running one (of --service). */
export const rolloutArgs = {
  rollout: Args.string({ description: 'The rollout id (service-N, e.g. api-3); default: the only running one.' }),
}

export const selectFlags = {
  service: Flags.string({ description: 'Pick the running rollout of this service.' }),
}

export default class DeployStatus extends OpsCommand<typeof DeployStatus> {
  static override summary = 'The state of a rollout: step, weights, the last analysis verdicts with their numbers, its controller.'
  static override description =
    'Without an id: the rollouts running now (--all: every rollout kept in .opsctl/deploy). ' +
    '--json prints the whole state as the controller keeps it (steps, analysis, verdicts, outcome).'
  static override examples = [
    '<%= config.bin %> deploy status',
    '<%= config.bin %> deploy status api-3 --json | jq .rollouts[0].rollout.verdicts',
    '<%= config.bin %> deploy status --all --service api',
  ]
  static override args = rolloutArgs
  static override flags = {
    ...selectFlags,
    all: Flags.boolean({ description: 'Every rollout kept, finished ones too.' }),
  }

  async run() {
    const report = rolloutStatus(this.settings, { id: this.args.rollout, service: this.flags.service, all: this.flags.all })
    return this.render(report, renderStatus)
  }
}
