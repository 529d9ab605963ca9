import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderFlag, showFlag } from '../../src/flags/index.js'

export default class FlagsShow extends OpsCommand<typeof FlagsShow> {
  static override summary = 'Show one flag: description, owner, age, strategies and variants per environment, evaluations.'
  static override examples = [
    '<%= config.bin %> flags show orders.eager-loading',
    '<%= config.bin %> flags show orders.eager-loading --json',
  ]
  static override args = { name: Args.string({ required: true, description: 'The flag, e.g. orders.eager-loading.' }) }
  static override flags = {
    file: Flags.string({ description: 'flags.yaml to read (default: flags.yaml beside opsctl.yaml); given, it wins over UNLEASH_URL.' }),
  }

  async run() {
    return this.render(await showFlag({ settings: this.settings, file: this.flags.file }, this.args.name), renderFlag)
  }
}
