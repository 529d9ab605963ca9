import { Args, Flags } from '@oclif/core'
import { isInteractive } from '../../src/core/index.js'
import { OpsCommand, durationFlag } from '../../src/cli/index.js'
import { renderStepPlan, renderStepResult, runRunbookStep, stepVerdict, terminalConfirm } from '../../src/incident/index.js'

export default class RunbookRun extends OpsCommand<typeof RunbookRun> {
  static override summary = "Run one step of a runbook after confirmation, and record it in the open incident's timeline."
  static override description =
    'Shows the command first. It runs only after you answer y on a terminal, or with --yes; without a terminal and without ' +
    '--yes nothing runs (exit 2). The command runs with sh -e (bash -e -o pipefail for bash blocks) in the directory of ' +
    'opsctl.yaml, with INCIDENT_ID, SERVICE and SERVICE_URL set. Its exit code and the last 40 lines of output (redacted) go ' +
    'into a runbook.step journal event linked to the open incident. A failing step exits 1; Ctrl-C is passed on to it and exits 130.'
  static override examples = [
    '<%= config.bin %> runbook run high-latency --step 1',
    '<%= config.bin %> runbook run feature-flag-kill --step kill-flag --yes',
    '<%= config.bin %> runbook run slow-query --step explain --incident INC-20261125-7KQ2',
  ]
  static override args = { id: Args.string({ ignoreStdin: true, description: 'The runbook id.', required: true }) }
  static override flags = {
    step: Flags.string({ char: 's', description: 'Step number or name (runbook show lists them).', required: true }),
    yes: Flags.boolean({ char: 'y', description: 'Run without asking (you have read the command).' }),
    incident: Flags.string({ char: 'i', description: 'Record in this incident (default: the only open one).' }),
    'no-incident': Flags.boolean({ description: 'Record without an incident even if one is open (a drill).' }),
    timeout: durationFlag({ description: 'Stop the command after this long [default: from config key incident.stepTimeout].' }),
  }

  async run() {
    const json = this.jsonEnabled()
    const interactive = process.stdin.isTTY && isInteractive(process.stderr, { ...process.env, NO_COLOR: undefined })
    const result = await runRunbookStep(
      this.settings,
      {
        runbook: this.args.id,
        step: this.flags.step,
        incident: this.flags.incident,
        noIncident: this.flags['no-incident'],
        yes: this.flags.yes,
        timeoutMs: this.flags.timeout,
      },
      {
        show: (plan) => (json ? this.note(renderStepPlan(plan, this.colors)) : this.log(renderStepPlan(plan, this.colors))),
        ...(interactive ? { confirm: terminalConfirm(process.stdin, process.stderr) } : {}),
        stdout: json ? process.stderr : process.stdout,
        stderr: process.stderr,
        note: (message) => this.note(message),
      },
    )
    this.render(result, renderStepResult)
    if (result.status === 'interrupted') return this.interrupted(result)
    return this.conclude(result, stepVerdict(result))
  }
}
