import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { ACTION_ITEM_TYPES, logIncidentNote, renderNote } from '../../src/incident/index.js'

export default class IncidentLog extends OpsCommand<typeof IncidentLog> {
  static override summary = 'Add a note to the incident timeline; a line starting with TODO: becomes an action item.'
  static override description =
    'Notes go to the open incident (or --incident ID when several are open) and keep their lines. `TODO: ...` or ' +
    '`TODO(P1, prevent, dave): ...` on a line of its own becomes an action item in the status and the post-mortem, with a ' +
    'priority (P0 to P4), a type (mitigate, prevent, detect, process) and an owner, in any order, each optional; --owner, ' +
    '--priority and --type give them to TODOs that name none.'
  static override examples = [
    '<%= config.bin %> incident log "Rolled back to v41; 5xx rate falling"',
    '<%= config.bin %> incident log "TODO(dave): alert on pool saturation before it hits 100%"',
    '<%= config.bin %> incident log "TODO: add an index on items.sku" --owner db-team --priority P2 --type prevent --incident INC-20261125-7KQ2',
    '<%= config.bin %> incident log "TODO(P1, detect): page on pool saturation"',
  ]
  static override args = { message: Args.string({ ignoreStdin: true, description: 'The note.', required: true }) }
  static override flags = {
    incident: Flags.string({ char: 'i', description: 'Incident id (default: the only open incident).' }),
    owner: Flags.string({ description: 'Owner of the action items (TODO: lines) that name none.' }),
    priority: Flags.string({ description: 'Priority (P0 to P4) of the action items that name none.' }),
    type: Flags.string({ options: [...ACTION_ITEM_TYPES], description: 'Type of the action items that name none.' }),
  }

  async run() {
    const result = await logIncidentNote(this.settings, {
      incident: this.flags.incident,
      message: this.args.message,
      owner: this.flags.owner,
      priority: this.flags.priority,
      type: this.flags.type,
    })
    return this.render(result, renderNote)
  }
}
