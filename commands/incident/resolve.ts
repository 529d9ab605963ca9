import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { actOnIncident, renderAction } from '../../src/incident/index.js'

export default class IncidentResolve extends OpsCommand<typeof IncidentResolve> {
  static override summary = 'Resolve the incident: the cause is fixed and the service restored. Then write the post-mortem.'
  static override description =
    'Acts on the open incident, or the one given. Asking again for the state it is already in changes nothing (exit 0); going ' +
    'back (acknowledging a mitigated incident) or acting on a resolved or cancelled one is refused with exit 1.'
  static override examples = ['<%= config.bin %> incident resolve -m "Pool size raised to 40 and deployed"']
  static override args = { id: Args.string({ ignoreStdin: true, description: 'Incident id (default: the only open incident).' }) }
  static override flags = {
    message: Flags.string({ char: 'm', description: 'What fixed it (goes into the post-mortem).' }),
  }

  async run() {
    const result = await actOnIncident(this.settings, { incident: this.args.id, action: 'resolve', text: this.flags.message })
    return this.render(result, renderAction)
  }
}
