import { Flags } from '@oclif/core'
import { systemClock } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'
import { createLineWriter, describeDamage, formatEvent, formatEventJson, listJournal, parseJournalFilter } from '../../src/journal/index.js'

export default class Journal extends OpsCommand<typeof Journal> {
  static override summary = 'List the ops journal: deploys, flag changes, verdicts, load and profile runs, incidents, in time order.'
  static override description = [
    'Human output shows local time, kind, subject, actor and a one-line summary. With --json every event is one JSON line',
    '(JSON Lines, not one document): a journal can be large and --follow never ends, so events are printed as they are read.',
    'Damaged lines are skipped and reported on stderr with file and line; run `journal verify` for the full check.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> journal --since 2h',
    '<%= config.bin %> journal --kind deploy,flag --subject api',
    '<%= config.bin %> journal --since 2024-05-01T10:00:00Z --until 2024-05-01T12:00:00Z --json | jq .kind',
    '<%= config.bin %> journal --follow',
  ]
  static override flags = {
    since: Flags.string({ description: 'Events at or after this: a duration back from now (2h, 30m) or an ISO 8601 time.' }),
    until: Flags.string({ description: 'Events before this: a duration back from now or an ISO 8601 time.' }),
    kind: Flags.string({ multiple: true, delimiter: ',', description: 'Kinds or namespaces (deploy matches deploy.*), comma-separated.' }),
    subject: Flags.string({ multiple: true, delimiter: ',', description: 'Only these subjects (service, flag, rollout, incident).' }),
    follow: Flags.boolean({ char: 'f', description: 'Keep printing new events as they are appended (PostgreSQL: LISTEN/NOTIFY).' }),
  }

  async run(): Promise<void> {
    const filter = parseJournalFilter(this.flags, systemClock)
    const json = this.jsonEnabled()
    const colors = this.colors
    const stop = new AbortController()
    const out = createLineWriter(process.stdout, () => stop.abort())
    const result = await listJournal(this.settings, filter, {
      follow: this.flags.follow,
      signal: stop.signal,
      onEvent: (event) => out.write(json ? formatEventJson(event) : formatEvent(event, colors)),
      onDamage: (damage) => this.note(`Skipped a damaged line: ${describeDamage(damage)}`),
    })
    await out.flush()
    if (result.events === 0 && !json) this.note(`No matching events in ${result.location}.`)
    // Nothing returned: with --json the events went out as JSON lines above.
  }
}
