import { configJsonSchema } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'

export default class ConfigSchema extends OpsCommand<typeof ConfigSchema> {
  static override summary = 'Print the JSON Schema of opsctl.yaml, for editors and CI validation.'
  static override description =
    'The same schema is checked in at schema/opsctl.schema.json. Point your editor at it with a first line of\n# yaml-language-server: $schema=./schema/opsctl.schema.json'
  static override examples = ['<%= config.bin %> config schema > schema/opsctl.schema.json']

  async run() {
    const schema = configJsonSchema()
    if (!this.jsonEnabled()) this.log(JSON.stringify(schema, null, 2))
    return schema
  }
}
