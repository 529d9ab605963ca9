import { Flags } from '@oclif/core'
import { redactValue } from '../src/core/index.js'
import { OpsCommand } from '../src/cli/index.js'
import { githubAnnotations, isGitHubActions, renderGateReport, runGate, type GateReport } from '../src/gate/index.js'

export default class Gate extends OpsCommand<typeof Gate> {
  static override summary = 'The CI performance gate: load, N+1, query-plan and profile budgets in one run with one verdict.'
  static override description = [
    'Runs the checks of gate: in opsctl.yaml (see docs/gate.md): starts the service under test, runs each check, stops the service',
    '(also on a crash or Ctrl-C), and compares with the baselines in .opsctl/baselines/ through repeated runs and a statistical test.',
    'Writes JUnit XML (--junit), a Markdown report (--markdown); on GitHub Actions also ::error annotations and the step summary.',
    'Exit 0 pass, 1 fail (or inconclusive: no baseline), 2 configuration error, 3 the service would not start, 4 invalid measurement',
    '(the runs disagree with each other: too noisy to decide), 130 interrupted.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> gate',
    '<%= config.bin %> gate --update-baseline',
    '<%= config.bin %> gate --junit reports/gate.xml --markdown reports/gate.md',
    '<%= config.bin %> gate --check orders-n-plus-one --check item-search-plan --json',
  ]
  static override flags = {
    'update-baseline': Flags.boolean({
      description: 'Store the results as the new baselines (commit .opsctl/baselines/) instead of comparing.',
    }),
    check: Flags.string({ description: 'Run only this check (repeatable).', multiple: true }),
    junit: Flags.string({ description: 'Write JUnit XML (one test case per check) to this file.' }),
    markdown: Flags.string({ description: 'Write the Markdown report (for a pull-request comment) to this file.' }),
  }

  async run(): Promise<GateReport> {
    const report = await runGate({
      settings: this.settings,
      updateBaseline: this.flags['update-baseline'],
      ...(this.flags.check ? { only: this.flags.check } : {}),
      ...(this.flags.junit ? { junit: this.flags.junit } : {}),
      ...(this.flags.markdown ? { markdown: this.flags.markdown } : {}),
      signal: this.interruptSignal,
      note: (message) => this.note(message),
      onProgress: this.progress,
    })
    // workflow commands are text, so they are built from redacted data like every other rendering
    const annotations = isGitHubActions(process.env) ? githubAnnotations(redactValue(report)) : []
    this.render(report, (result, colors) => [renderGateReport(result, colors), ...annotations].join('\n'))
    // workflow commands are read from stdout; with --json that belongs to the document, so they go to stderr
    if (this.jsonEnabled()) for (const line of annotations) this.note(line)
    if (report.interrupted) return this.interrupted(report)
    return this.conclude(report, report.verdict)
  }
}
