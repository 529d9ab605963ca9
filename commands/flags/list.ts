import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { listFlags, renderFlagList } from '../../src/flags/index.js'

export default class FlagsList extends OpsCommand<typeof FlagsList> {
  static override summary = 'List feature flags: type, state per environment, rollout, and how often SDKs evaluated them.'
  static override description =
    'Reads flags.yaml (beside opsctl.yaml, or --file), or a real Unleash server through its Admin API when UNLEASH_URL and ' +
    'UNLEASH_API_TOKEN are set. Evaluation counts are those SDKs reported to opsctl flags serve (or to Unleash).'
  static override examples = [
    '<%= config.bin %> flags list',
    '<%= config.bin %> flags list --json',
    'UNLEASH_URL=https://unleash.example.com/api UNLEASH_API_TOKEN=... <%= config.bin %> flags list',
  ]
  static override flags = {
    file: Flags.string({ description: 'flags.yaml to read (default: flags.yaml beside opsctl.yaml); given, it wins over UNLEASH_URL.' }),
  }

  async run() {
    return this.render(await listFlags({ settings: this.settings, file: this.flags.file }), renderFlagList)
  }
}
