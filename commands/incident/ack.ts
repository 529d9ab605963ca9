import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { actOnIncident, renderAction } from '../../src/incident/index.js'

export default class IncidentAck extends OpsCommand<typeof IncidentAck> {
  static override summary = 'Acknowledge the incident: you have it. Time to acknowledge is measured to here.'
  static override description =
    'Acts on the open incident, or the one given. Asking again for the state it is already in changes nothing (exit 0); going ' +
    'back (acknowledging a mitigated incident) or acting on a resolved or cancelled one is refused with exit 1. A second ' +
    'acknowledgement by someone else is refused too (exit 1): hand over with incident role commander NAME.'
  static override examples = ['<%= config.bin %> incident ack', '<%= config.bin %> incident ack INC-20261125-7KQ2 --by alice']
  static override args = { id: Args.string({ ignoreStdin: true, description: 'Incident id (default: the only open incident).' }) }
  static override flags = {
    by: Flags.string({ description: 'Who takes it (default: the journal actor: OPSCTL_ACTOR, the CI job or the login name).' }),
  }

  async run() {
    const result = await actOnIncident(this.settings, { incident: this.args.id, action: 'acknowledge', by: this.flags.by })
    return this.render(result, renderAction)
  }
}
