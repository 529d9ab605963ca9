import { Args, Flags } from '@oclif/core'
import { badInput, parsePercent } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'
import { changeFlag, renderChange } from '../../src/flags/index.js'

export default class FlagsRollout extends OpsCommand<typeof FlagsRollout> {
  static override summary = 'Set the share of users a flag reaches in one environment (its flexibleRollout percentage).'
  static override description =
    "Users are bucketed by Unleash's stickiness hash, so raising 10% to 25% keeps the first 10% and adds to them. Without a " +
    'flexibleRollout strategy yet, one is added and replaces the default (everyone) strategy. Recorded in the ops journal.'
  static override examples = [
    '<%= config.bin %> flags rollout orders.eager-loading 25% --env production',
    '<%= config.bin %> flags rollout checkout.new-flow 100% --env production --reason "experiment won"',
  ]
  static override args = {
    name: Args.string({ required: true, description: 'The flag.' }),
    percent: Args.custom<number>({ parse: async (input) => wholePercent(input) })({
      required: true,
      description: 'A whole percentage, such as 25%.',
    }),
  }
  static override flags = {
    env: Flags.string({ required: true, description: 'The environment, e.g. production.' }),
    reason: Flags.string({ description: 'Why: goes into the journal.' }),
    file: Flags.string({ description: 'flags.yaml to change (default: flags.yaml beside opsctl.yaml); given, it wins over UNLEASH_URL.' }),
  }

  async run() {
    const percent = this.args.percent
    const change = await changeFlag(
      { settings: this.settings, file: this.flags.file },
      { action: 'rollout', name: this.args.name, environment: this.flags.env, percent, reason: this.flags.reason },
    )
    return this.render(change, renderChange)
  }
}

/** Parsed at the edge: `25%` -> 25, a whole percentage from 0 to 100. */
function wholePercent(text: string): number {
  const percent = Math.round(parsePercent(text, 'rollout') * 1e6) / 1e4
  if (!text.trim().endsWith('%') || !Number.isInteger(percent) || percent > 100)
    throw badInput(
      `Invalid rollout "${text}": give a whole percentage from 0% to 100%`,
      'For example: opsctl flags rollout NAME 25% --env production',
    )
  return percent
}
