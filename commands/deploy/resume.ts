import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderRun, resumeRollout } from '../../src/deploy/index.js'
import { rolloutArgs, selectFlags } from './status.js'

/** Flags every strategy shares: analysis, hooks, the pool and a version label. */
export const rolloutFlags = {
  analysis: Flags.string({
    description: 'The analysis file: metrics, thresholds, synthetic load (docs/deploy.md) [default: deploy.analysis].',
  }),
  'min-samples': Flags.integer({
    min: 1,
    description: 'Fewest requests per side for a verdict [default: from config key deploy.minSamples].',
  }),
  'max-inconclusive': Flags.integer({
    min: 1,
    description: 'Inconclusive windows in a row that pause the rollout [default: from config key deploy.maxInconclusive].',
  }),
  hook: Flags.string({
    multiple: true,
    description: 'phase=command or phase=URL, phases pre-rollout, step, rollback, promoted, release (repeatable; added to deploy.hooks).',
  }),
  pool: Flags.string({ description: 'The pool to act in when the backends are in several [default: deploy.pool].' }),
  version: Flags.string({ description: 'A label for the new version in the journal (default: its address).' }),
}

export default class DeployResume extends OpsCommand<typeof DeployResume> {
  static override summary = 'Resume a paused rollout, or take over one whose controller was killed: it goes on from its recorded step.'
  static override description =
    'If the rollout’s controller still runs, it is asked to go on. Otherwise this process becomes the controller ' +
    '(a live controller on the same rollout is refused: one controller per rollout, by a lock in .opsctl/deploy).'
  static override examples = ['<%= config.bin %> deploy resume', '<%= config.bin %> deploy resume api-3 --reason "more traffic now"']
  static override args = rolloutArgs
  static override flags = {
    ...selectFlags,
    reason: Flags.string({ description: 'Why (kept in the journal).' }),
  }

  async run() {
    const run = await resumeRollout(
      this.settings,
      { id: this.args.rollout, service: this.flags.service, reason: this.flags.reason },
      { signal: this.interruptSignal, log: (message) => this.note(message) },
    )
    this.render(run, renderRun)
    // Ctrl-C leaves the rollout paused for the next resume: 130, whatever its verdict so far.
    return run.interrupted ? this.interrupted(run) : this.conclude(run, run.verdict)
  }
}
