import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderChange, switchFlag } from '../../src/flags/index.js'

export default class FlagsEnable extends OpsCommand<typeof FlagsEnable> {
  static override summary = 'Turn a flag on in one environment (its strategies then decide who gets it).'
  static override description =
    'Changes flags.yaml in place, keeping its comments and layout (written atomically; opsctl flags serve picks it up at once), ' +
    'or the flag on a real Unleash server when UNLEASH_URL and UNLEASH_API_TOKEN are set. The change is recorded in the ops journal.'
  static override examples = ['<%= config.bin %> flags enable orders.eager-loading --env production --reason "N+1 fix verified on staging"']
  static override args = { name: Args.string({ required: true, description: 'The flag.' }) }
  static override flags = {
    env: Flags.string({ required: true, description: 'The environment, e.g. production.' }),
    reason: Flags.string({ description: 'Why: goes into the journal.' }),
    file: Flags.string({ description: 'flags.yaml to change (default: flags.yaml beside opsctl.yaml); given, it wins over UNLEASH_URL.' }),
  }

  /** `flags disable` is this command with the other action. */
  protected action: 'enable' | 'disable' = 'enable'

  async run() {
    return this.render(await switchFlag(this.settings, this.action, this.args.name, this.flags), renderChange)
  }
}
