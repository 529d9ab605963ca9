import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { actOnIncident, renderAction } from '../../src/incident/index.js'

export default class IncidentMitigate extends OpsCommand<typeof IncidentMitigate> {
  static override summary = 'Mark the incident mitigated: users are no longer hurt, even if the cause is not fixed yet.'
  static override description =
    'Acts on the open incident, or the one given. Asking again for the state it is already in changes nothing (exit 0); going ' +
    'back (acknowledging a mitigated incident) or acting on a resolved or cancelled one is refused with exit 1.'
  static override examples = ['<%= config.bin %> incident mitigate -m "Killed flag checkout.new-flow; 5xx back to baseline"']
  static override args = { id: Args.string({ ignoreStdin: true, description: 'Incident id (default: the only open incident).' }) }
  static override flags = {
    message: Flags.string({ char: 'm', description: 'What stopped the impact (goes into the post-mortem).' }),
  }

  async run() {
    const result = await actOnIncident(this.settings, { incident: this.args.id, action: 'mitigate', text: this.flags.message })
    return this.render(result, renderAction)
  }
}
