import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { flagsFilePath, readFlagsFile } from '../../src/flags/index.js'

export default class FlagsValidate extends OpsCommand<typeof FlagsValidate> {
  static override summary = 'Check flags.yaml: every problem is reported with file, line and key path (exit 2).'
  static override examples = ['<%= config.bin %> flags validate', '<%= config.bin %> flags validate --file deploy/flags.yaml']
  static override flags = {
    file: Flags.string({ description: 'flags.yaml to check (default: flags.yaml beside opsctl.yaml).' }),
  }

  async run() {
    const loaded = readFlagsFile(flagsFilePath(this.settings, this.flags.file))
    const result = { file: loaded.file, valid: true, environments: loaded.flags.environments, flags: Object.keys(loaded.flags.flags).length }
    return this.render(result, (r) => `${r.file} is valid: ${r.flags} flag${r.flags === 1 ? '' : 's'}, environments ${r.environments.join(', ')}.`)
  }
}
