import { OpsCommand } from '../../src/cli/index.js'
import { describeSettings } from '../../src/settings/index.js'

export default class ConfigValidate extends OpsCommand<typeof ConfigValidate> {
  static override summary = 'Check opsctl.yaml: unknown keys and wrong types are reported with file, line and key path (exit 2).'
  static override examples = ['<%= config.bin %> config validate', '<%= config.bin %> config validate --config deploy/opsctl.yaml']

  async run() {
    const summary = describeSettings(this.settings)
    return this.render({ valid: true, configPath: summary.configPath }, (result) =>
      result.configPath ? `${result.configPath} is valid.` : 'No opsctl.yaml found; the defaults apply.',
    )
  }
}
