import { ExitCode, OpsError } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'
import { describeDamage, renderVerifyReport, verifyJournal } from '../../src/journal/index.js'

export default class JournalVerify extends OpsCommand<typeof JournalVerify> {
  static override summary = 'Check every line and checksum of the journal; report what is damaged and where (exit 1).'
  static override description = 'Files: each line\'s JSON, CRC-32 and envelope, and torn last lines. PostgreSQL: each row\'s envelope and the notify trigger.'
  static override examples = ['<%= config.bin %> journal verify', 'OPSCTL_JOURNAL_URL=postgres://ops@db/ops <%= config.bin %> journal verify --json']

  async run() {
    const report = await verifyJournal(this.settings)
    this.render(report, renderVerifyReport)
    if (report.damaged.length > 0) {
      const shown = report.damaged.slice(0, 5).map((damage) => describeDamage(damage))
      throw new OpsError(`${report.damaged.length} damaged in the journal: ${shown.join('; ')}${report.damaged.length > shown.length ? '; …' : ''}`, {
        exit: ExitCode.CheckFailed,
        hint: 'Reading skips damaged lines and keeps the events around them. A torn last line is an interrupted write; keep the file for the record, or delete the line by hand.',
      })
    }
    return report
  }
}
