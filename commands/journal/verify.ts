import { OpsCommand } from '../../src/cli/index.js'
import { renderVerifyReport, verifyJournal, verifyVerdict } from '../../src/journal/index.js'

export default class JournalVerify extends OpsCommand<typeof JournalVerify> {
  static override summary = 'Check every line and checksum of the journal; report what is damaged and where (exit 1).'
  static override description =
    "Files: each line's JSON, CRC-32 and envelope, and torn last lines. PostgreSQL: each row's envelope and the notify trigger."
  static override examples = [
    '<%= config.bin %> journal verify',
    'OPSCTL_JOURNAL_URL=postgres://ops@db/ops <%= config.bin %> journal verify --json',
  ]

  async run() {
    const report = await verifyJournal(this.settings)
    this.render(report, renderVerifyReport)
    return this.conclude(report, verifyVerdict(report))
  }
}
