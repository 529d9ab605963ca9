import { OpsCommand } from '../../src/cli/index.js'
import { libraryVerdict, loadRunbookLibrary, renderRunbookList } from '../../src/incident/index.js'

export default class RunbookList extends OpsCommand<typeof RunbookList> {
  static override summary = 'List the runbooks: the shipped ones, and those of runbooks.dirs in opsctl.yaml (same id: theirs win).'
  static override description =
    'A runbook whose front matter cannot be read is reported with file and line on stderr, after the others are listed (exit 1; --json lists it under broken).'
  static override examples = ['<%= config.bin %> runbook list', '<%= config.bin %> runbook list --json']

  async run() {
    const library = loadRunbookLibrary(this.settings)
    this.render(library, renderRunbookList)
    // The readable ones are listed; the broken files fail the listing, named with file and line.
    return this.conclude(library, libraryVerdict(library))
  }
}
