import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { listIncidents, renderIncidentList } from '../../src/incident/index.js'

export default class IncidentList extends OpsCommand<typeof IncidentList> {
  static override summary = 'List incidents from the journal, newest first.'
  static override examples = [
    '<%= config.bin %> incident list',
    '<%= config.bin %> incident list --open',
    '<%= config.bin %> incident list --limit 100 --json',
  ]
  static override flags = {
    open: Flags.boolean({ description: 'Only incidents not resolved or cancelled.' }),
    limit: Flags.integer({ min: 1, default: 20, description: 'How many to show.' }),
  }

  async run() {
    return this.render(await listIncidents(this.settings, { open: this.flags.open, limit: this.flags.limit }), renderIncidentList)
  }
}
