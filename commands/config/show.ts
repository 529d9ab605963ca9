import { OpsCommand } from '../../src/cli/index.js'
import { describeSettings, renderSettings } from '../../src/settings/index.js'

export default class ConfigShow extends OpsCommand<typeof ConfigShow> {
  static override summary = 'Show the effective configuration: opsctl.yaml, then OPSCTL_* variables, then flags.'
  static override description =
    'Secrets (passwords in URLs, tokens) are redacted. Each key shows the environment variable that overrides it.'
  static override examples = [
    '<%= config.bin %> config show',
    '<%= config.bin %> config show --json',
    'OPSCTL_JOURNAL_DURABLE=false <%= config.bin %> config show',
  ]

  async run() {
    return this.render(describeSettings(this.settings), renderSettings)
  }
}
