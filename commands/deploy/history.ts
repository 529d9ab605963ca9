import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderHistory, rolloutHistory } from '../../src/deploy/index.js'

export default class DeployHistory extends OpsCommand<typeof DeployHistory> {
  static override summary = 'Past rollouts from the ops journal, newest first, with their outcomes.'
  static override description =
    'One line per rollout: strategy, start, duration, outcome (promoted, completed, rolled back, aborted, failed, halted or running), ' +
    'the highest weight the new version reached, the analysis windows passed/failed/inconclusive and the reason.'
  static override examples = [
    '<%= config.bin %> deploy history',
    '<%= config.bin %> deploy history --service api --limit 5',
    '<%= config.bin %> deploy history --json | jq \'.[] | select(.outcome == "rolled back")\'',
  ]
  static override flags = {
    service: Flags.string({ description: 'Only the rollouts of this service.' }),
    limit: Flags.integer({ min: 1, default: 20, description: 'How many rollouts.' }),
  }

  async run() {
    const entries = await rolloutHistory(this.settings, { service: this.flags.service, limit: this.flags.limit })
    return this.render(entries, renderHistory)
  }
}
