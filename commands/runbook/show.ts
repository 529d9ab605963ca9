import { Args } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { findRunbook, formatProblem, loadRunbookLibrary, renderRunbook } from '../../src/incident/index.js'

export default class RunbookShow extends OpsCommand<typeof RunbookShow> {
  static override summary = 'Show a runbook, with its numbered steps and the command that runs each.'
  static override examples = [
    '<%= config.bin %> runbook show high-latency',
    '<%= config.bin %> runbook show db-connection-exhaustion --json',
  ]
  static override args = { id: Args.string({ ignoreStdin: true, description: 'The runbook id.', required: true }) }

  async run() {
    const library = loadRunbookLibrary(this.settings)
    const runbook = findRunbook(library, this.args.id)
    for (const problem of library.broken) this.note(`Skipped a broken runbook: ${formatProblem(problem)}`)
    return this.render(runbook, renderRunbook)
  }
}
