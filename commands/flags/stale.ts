import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { findStale, renderStale } from '../../src/flags/index.js'

export default class FlagsStale extends OpsCommand<typeof FlagsStale> {
  static override summary = 'Find stale flags: past their lifetime, never evaluated, or code and flags.yaml disagreeing. Exit 1 when any.'
  static override description = [
    'Rules: release and experiment flags older than 40 days and operational flags older than 7 (kill-switch and permission',
    'flags are permanent); flags no SDK ever reported evaluating; flags the code asks for (isEnabled, getVariant, useFlag,',
    '... with a literal name or a constant) that are not defined; flags defined that no code asks for. Tests, dependencies',
    'and build output are not scanned. A parent of a live flag (dependencies) is not stale: code asks for the child.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> flags stale',
    '<%= config.bin %> flags stale --code src --code reference-service/src --json',
  ]
  static override flags = {
    code: Flags.string({ multiple: true, description: 'Directory to scan for SDK calls (default: the project root). Repeatable.' }),
    'no-scan': Flags.boolean({ description: 'Do not scan code: only the age and evaluation rules.' }),
    file: Flags.string({ description: 'flags.yaml to read (default: flags.yaml beside opsctl.yaml); given, it wins over UNLEASH_URL.' }),
  }

  async run() {
    const result = await findStale(
      { settings: this.settings, file: this.flags.file },
      { codeDirs: this.flags['no-scan'] ? [] : this.flags.code },
    )
    return this.conclude(this.render(result, renderStale), result.verdict)
  }
}
