import { Args, Flags } from '@oclif/core'
import { OpsCommand, percentFlag } from '../../src/cli/index.js'
import { defaultProfileDir, diffProfileFiles, renderDiffRun } from '../../src/profile/index.js'

export default class ProfileDiff extends OpsCommand<typeof ProfileDiff> {
  static override summary = 'Compare two CPU profiles: a differential flame graph and the functions whose share changed most.'
  static override description = [
    'BEFORE and AFTER are folded-stack files, V8 .cpuprofile files, or directories written by opsctl profile. Shares are of each',
    "profile's on-CPU samples, so runs of different lengths compare. Writes a self-contained HTML flame graph (red grew, blue shrank).",
    "--max-growth fails (exit 1) when any function's self share grew by more than that many percentage points: the CI gate.",
  ].join('\n')
  static override examples = [
    '<%= config.bin %> profile diff .opsctl/profiles/base .opsctl/profiles/pr',
    '<%= config.bin %> profile diff before.folded after.folded --max-growth 5% --out diff.html',
  ]
  static override args = {
    before: Args.string({ description: 'The baseline profile.', required: true }),
    after: Args.string({ description: 'The profile to judge.', required: true }),
  }
  static override flags = {
    out: Flags.string({ description: 'The HTML file to write (default .opsctl/profiles/diff-<time>.html).' }),
    top: Flags.integer({ description: 'Functions in the ranked list.', default: 15, min: 1, max: 200 }),
    'max-growth': percentFlag({ description: "Fail when a function's self share grew by more than this, e.g. 5%." }),
  }

  async run() {
    const run = diffProfileFiles({
      before: this.args.before,
      after: this.args.after,
      out: this.flags.out ?? `${defaultProfileDir(this.settings.stateDir, new Date(), 'diff-')}.html`,
      top: this.flags.top,
      ...(this.flags['max-growth'] !== undefined ? { maxGrowth: this.flags['max-growth'] } : {}),
    })
    this.render(run, renderDiffRun)
    return this.conclude(run, run.verdict)
  }
}
