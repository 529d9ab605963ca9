import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { pushFlags, renderPush } from '../../src/flags/index.js'

export default class FlagsPush extends OpsCommand<typeof FlagsPush> {
  static override summary = 'Write flags.yaml onto a real Unleash (UNLEASH_URL, UNLEASH_API_TOKEN) through its Admin API.'
  static override description = [
    'Segments, flags, per environment the switch, strategies (replaced), variants and dependencies, so that SDKs reading',
    'Unleash give every user what opsctl flags serve gives them. Refused before anything is written: what Unleash cannot',
    'hold (variantsAsWritten, a parent or segment that is not defined, a parent with parents of its own). Deprecated',
    'strategies are written as the flexibleRollout that buckets the same users.',
  ].join('\n')
  static override examples = [
    'UNLEASH_URL=https://unleash.example.com/api UNLEASH_API_TOKEN=... <%= config.bin %> flags push',
    'UNLEASH_URL=... UNLEASH_API_TOKEN=... UNLEASH_PROJECT=shop <%= config.bin %> flags push --file deploy/flags.yaml --json',
  ]
  static override flags = {
    file: Flags.string({ description: 'flags.yaml to push (default: flags.yaml beside opsctl.yaml).' }),
  }

  async run() {
    return this.render(await pushFlags({ settings: this.settings, file: this.flags.file }), renderPush)
  }
}
