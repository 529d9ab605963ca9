import { Args } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { brokenRunbookError, lintRunbooks, lintVerdict, renderLintReport, unreadableProblems } from '../../src/incident/index.js'

export default class RunbookLint extends OpsCommand<typeof RunbookLint> {
  static override summary = 'Check runbooks: front matter schema, required sections, every command block named.'
  static override description =
    'Without files, checks every runbook opsctl knows (shipped and runbooks.dirs). Each problem is printed as file:line: message. ' +
    'Exit 2 when a file is not a readable runbook (broken front matter), 1 when a runbook breaks a rule, 0 otherwise (warnings ' +
    'do not fail).'
  static override examples = ['<%= config.bin %> runbook lint', '<%= config.bin %> runbook lint runbooks/queue-backlog.md']
  static override strict = false
  static override args = { files: Args.string({ ignoreStdin: true, description: 'Runbook files (default: all configured runbooks).' }) }

  async run() {
    const { argv } = await this.parse(RunbookLint)
    const files = argv.map(String)
    const report = lintRunbooks(files.length ? undefined : this.settings, files)
    this.render(report, renderLintReport)
    // A file that is not a runbook at all is bad input (exit 2), not a failed check.
    if (report.unreadable > 0) throw brokenRunbookError(unreadableProblems(report))
    return this.conclude(report, lintVerdict(report))
  }
}
