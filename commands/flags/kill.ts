import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { changeFlag, renderChange } from '../../src/flags/index.js'

export default class FlagsKill extends OpsCommand<typeof FlagsKill> {
  static override summary = 'Turn a flag off in every environment at once: the fastest mitigation.'
  static override description =
    'One atomic write of flags.yaml (or every environment at once on Unleash). SDKs see it at their next refresh. The reason ' +
    'goes into the ops journal, and from there into the incident timeline.'
  static override examples = ['<%= config.bin %> flags kill checkout.new-flow --reason "500s on /checkout since 14:02"']
  static override args = { name: Args.string({ required: true, description: 'The flag.' }) }
  static override flags = {
    reason: Flags.string({ required: true, description: 'Why: goes into the journal.' }),
    file: Flags.string({ description: 'flags.yaml to change (default: flags.yaml beside opsctl.yaml); given, it wins over UNLEASH_URL.' }),
  }

  async run() {
    const change = await changeFlag(
      { settings: this.settings, file: this.flags.file },
      { action: 'kill', name: this.args.name, reason: this.flags.reason },
    )
    return this.render(change, renderChange)
  }
}
