import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderValidation, validateFlags } from '../../src/flags/index.js'

export default class FlagsValidate extends OpsCommand<typeof FlagsValidate> {
  static override summary = 'Check flags.yaml: every problem is reported with file, line and key path (exit 2).'
  static override description =
    'Also lists notices: what is valid but probably not meant (a parent or segment that is not defined, a regex RE2 refuses, ' +
    'a parent with parents of its own, a deprecated strategy). SDKs evaluate those in a defined way (never on, never matching); ' +
    'with --strict they fail the check (exit 1).'
  static override examples = ['<%= config.bin %> flags validate', '<%= config.bin %> flags validate --file deploy/flags.yaml --strict']
  static override flags = {
    file: Flags.string({ description: 'flags.yaml to check (default: flags.yaml beside opsctl.yaml).' }),
    strict: Flags.boolean({ description: 'Fail (exit 1) on notices too.' }),
  }

  async run() {
    const result = validateFlags(this.settings, { file: this.flags.file, strict: this.flags.strict })
    return this.conclude(this.render(result, renderValidation), result.verdict)
  }
}
