import { Flags } from '@oclif/core'
import { badInput } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'
import { configuredJournalLocation, copyJournal, describeDamage, journalOptions, renderCopySummary } from '../../src/journal/index.js'

export default class JournalCopy extends OpsCommand<typeof JournalCopy> {
  static override summary = 'Copy a journal between directories and PostgreSQL; events already in the target are skipped.'
  static override description =
    'Ids are the identity of events, so running it again adds nothing. Either side defaults to the configured journal.'
  static override examples = [
    '<%= config.bin %> journal copy --to postgres://ops@db.internal/ops',
    '<%= config.bin %> journal copy --from postgres://ops@db.internal/ops --to ./journal-backup',
  ]
  static override flags = {
    from: Flags.string({ description: 'A postgres:// URL or a journal directory (default: the configured journal).' }),
    to: Flags.string({ description: 'A postgres:// URL or a journal directory (default: the configured journal).' }),
  }

  async run() {
    const { from, to } = this.flags
    if (!from && !to) throw badInput('Give --from, --to or both', 'The side you leave out is the configured journal.')
    const configured = from && to ? '' : configuredJournalLocation(this.settings)
    const summary = await copyJournal(from ?? configured, to ?? configured, {
      ...journalOptions(this.settings),
      onDamage: (damage) => this.note(`Skipped a damaged line: ${describeDamage(damage)}`),
    })
    return this.render(summary, renderCopySummary)
  }
}
