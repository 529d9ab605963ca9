import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { KNOWN_ROLES, assignIncidentRole, renderRole } from '../../src/incident/index.js'

export default class IncidentRole extends OpsCommand<typeof IncidentRole> {
  static override summary = 'Give someone a role on the incident: commander, scribe, communications, operations, or your own.'
  static override description = `The latest assignment of a role wins (a handover). Known roles: ${KNOWN_ROLES.join(', ')}; any other one-word role is accepted.`
  static override examples = [
    '<%= config.bin %> incident role commander alice',
    '<%= config.bin %> incident role scribe bob --incident INC-20261125-7KQ2',
  ]
  static override args = {
    role: Args.string({ ignoreStdin: true, description: 'The role.', required: true }),
    person: Args.string({ ignoreStdin: true, description: 'Who takes it.', required: true }),
  }
  static override flags = { incident: Flags.string({ char: 'i', description: 'Incident id (default: the only open incident).' }) }

  async run() {
    const result = await assignIncidentRole(this.settings, {
      incident: this.flags.incident,
      role: this.args.role,
      person: this.args.person,
    })
    return this.render(result, renderRole)
  }
}
