import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { scaffoldRunbook } from '../../src/incident/index.js'

export default class RunbookNew extends OpsCommand<typeof RunbookNew> {
  static override summary = 'Scaffold a runbook from the template, with every required section, ready for runbook lint.'
  static override description =
    'Written to --dir, else the first of runbooks.dirs in opsctl.yaml, else runbooks/ beside opsctl.yaml. An existing file is kept unless --force.'
  static override examples = ['<%= config.bin %> runbook new queue-backlog --title "Queue backlog growing" --owner team-payments']
  static override args = {
    id: Args.string({ ignoreStdin: true, description: 'The runbook id: lowercase letters, digits and -.', required: true }),
  }
  static override flags = {
    title: Flags.string({ description: 'Its title (default: from the id).' }),
    owner: Flags.string({ description: 'The owning team or person (default: the journal actor).' }),
    dir: Flags.string({ description: 'Directory to write to.' }),
    force: Flags.boolean({ description: 'Overwrite an existing file.' }),
  }

  async run() {
    const result = scaffoldRunbook(this.settings, {
      id: this.args.id,
      title: this.flags.title,
      owner: this.flags.owner,
      dir: this.flags.dir,
      force: this.flags.force,
    })
    return this.render(result, (created) => `Wrote ${created.file}. Fill in the sections, then: opsctl runbook lint ${created.file}`)
  }
}
