import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { logIncidentNote, renderNote } from '../../src/incident/index.js'

export default class IncidentLog extends OpsCommand<typeof IncidentLog> {
  static override summary = 'Add a note to the incident timeline; a line starting with TODO: becomes an action item.'
  static override description =
    'Notes go to the open incident (or --incident ID when several are open). `TODO: ...` or `TODO(owner): ...` on a line of its own ' +
    'becomes an action item in the status and the post-mortem; --owner gives the owner of TODOs that name none.'
  static override examples = [
    '<%= config.bin %> incident log "Rolled back to v41; 5xx rate falling"',
    '<%= config.bin %> incident log "TODO(dave): alert on pool saturation before it hits 100%"',
    '<%= config.bin %> incident log "TODO: add an index on items.sku" --owner db-team --incident INC-20261125-7KQ2',
  ]
  static override args = { message: Args.string({ ignoreStdin: true, description: 'The note.', required: true }) }
  static override flags = {
    incident: Flags.string({ char: 'i', description: 'Incident id (default: the only open incident).' }),
    owner: Flags.string({ description: 'Owner of the action items (TODO: lines) that name none.' }),
  }

  async run() {
    const result = await logIncidentNote(this.settings, { incident: this.flags.incident, message: this.args.message, owner: this.flags.owner })
    return this.render(result, renderNote)
  }
}
