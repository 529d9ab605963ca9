import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { importFlags, renderImport } from '../../src/flags/index.js'

export default class FlagsImport extends OpsCommand<typeof FlagsImport> {
  static override summary = "Write flags.yaml from Unleash's data: a client API, delta API or export JSON document."
  static override description = [
    'For teams moving from Unleash: every user keeps the variant and rollout bucket they had. Flags flags.yaml cannot express',
    '(custom strategies, names with spaces or slashes) are listed, not dropped silently; names that are not URL-safe and',
    'operators Unleash does not have are kept as SDKs read them, with a notice. Variants that an older Unleash stored',
    'unnormalised (weights adding up to 100, unsorted) are kept exactly, with variantsAsWritten.',
  ].join('\n')
  static override examples = [
    'curl -H "Authorization: $CLIENT_TOKEN" https://unleash.example.com/api/client/features > features.json && <%= config.bin %> flags import features.json --env production',
    '<%= config.bin %> flags import export.json --output flags.yaml --force',
  ]
  static override args = { input: Args.string({ required: true, description: 'The JSON document.' }) }
  static override flags = {
    env: Flags.string({ description: 'The environment the data is of [default: development].' }),
    output: Flags.string({ description: 'flags.yaml to write (default: flags.yaml beside opsctl.yaml).' }),
    owner: Flags.string({ description: 'Owner written for every flag (Unleash has none) [default: unknown].' }),
    force: Flags.boolean({ description: 'Replace the output file if it exists.' }),
  }

  async run() {
    const { env, output, owner, force } = this.flags
    return this.render(await importFlags(this.settings, { input: this.args.input, environment: env, output, owner, force }), renderImport)
  }
}
