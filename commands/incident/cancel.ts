import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { actOnIncident, renderAction } from '../../src/incident/index.js'

export default class IncidentCancel extends OpsCommand<typeof IncidentCancel> {
  static override summary = 'Cancel the incident: a false alarm, or a duplicate of another incident.'
  static override description =
    'Acts on the open incident, or the one given. Asking again for the state it is already in changes nothing (exit 0); going ' +
    'back (acknowledging a mitigated incident) or acting on a resolved or cancelled one is refused with exit 1.'
  static override examples = ['<%= config.bin %> incident cancel --reason "Synthetic check misconfigured"']
  static override args = { id: Args.string({ ignoreStdin: true, description: 'Incident id (default: the only open incident).' }) }
  static override flags = {
    reason: Flags.string({ description: 'Why it was not an incident (a false alarm, a duplicate of INC-...).' }),
  }

  async run() {
    const result = await actOnIncident(this.settings, { incident: this.args.id, action: 'cancel', text: this.flags.reason })
    return this.render(result, renderAction)
  }
}
