import { Args } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { incidentStatus, renderStatus } from '../../src/incident/index.js'

export default class IncidentStatus extends OpsCommand<typeof IncidentStatus> {
  static override summary = 'Show an incident: state, roles, times, response figures so far, timeline and action items.'
  static override description =
    'State is replayed from the journal, so every responder (every terminal, every machine on a shared PostgreSQL journal) sees the same.'
  static override examples = [
    '<%= config.bin %> incident status',
    '<%= config.bin %> incident status 7KQ2',
    '<%= config.bin %> incident status INC-20261125-7KQ2 --json',
  ]
  static override args = {
    id: Args.string({ ignoreStdin: true, description: 'Incident id, or its last part (default: the only open incident).' }),
  }

  async run() {
    return this.render(await incidentStatus(this.settings, this.args.id), renderStatus)
  }
}
