import { Flags } from '@oclif/core'
import { badInput } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'
import { appendEvents, describeAppend, registeredEventKinds } from '../../src/journal/index.js'

export default class JournalAppend extends OpsCommand<typeof JournalAppend> {
  static override summary = 'Append events to the ops journal: one from flags, or JSON lines from stdin.'
  static override description = [
    'Prints the id of every event once it is written (and flushed, unless journal.durable is false): an id on stdout is an',
    'acknowledgement. From stdin, the whole input is validated first and a bad line refuses all of it (exit 2, nothing',
    'written); the events then go out in chunks of --chunk, each one atomic write. With --stream, each part of the input is',
    'written as it arrives, up to the first bad line. Lines over 1 MiB are refused.',
    '',
    `Kinds: ${registeredEventKinds()
      .map((kind) => kind.kind)
      .join(', ')}, and x.* for your own.`,
  ].join('\n')
  static override examples = [
    '<%= config.bin %> journal append --kind note --subject api --message "Restarted the workers"',
    `<%= config.bin %> journal append --kind deploy.step --subject api --data '{"step":2,"weight":25}' --link rollout=R-12`,
    `echo '{"kind":"note","subject":"api","data":{"message":"migrated"}}' | <%= config.bin %> journal append --stdin`,
  ]
  static override flags = {
    kind: Flags.string({ description: 'Kind of the one event to append (the kinds are listed below).', exclusive: ['stdin', 'stream'] }),
    subject: Flags.string({ description: 'What the event is about (default: service.name).' }),
    message: Flags.string({ description: 'data.message (notes).' }),
    data: Flags.string({ description: 'The data object, as JSON.' }),
    link: Flags.string({ multiple: true, description: 'A link NAME=VALUE: incident=INC-1, rollout=R-12, commit=3f2a9c1.' }),
    stdin: Flags.boolean({ description: 'Read JSON lines from stdin (the default when stdin is not a terminal and --kind is absent).' }),
    stream: Flags.boolean({ description: 'Write each part of stdin as it arrives instead of validating all of it first.' }),
    chunk: Flags.integer({ min: 1, default: 1000, description: 'Events per atomic write (and per acknowledgement).' }),
  }

  async run() {
    const { kind, stdin, stream, chunk } = this.flags
    const fromStdin = stdin || stream || (!kind && !process.stdin.isTTY)
    if (!fromStdin && !kind) throw badInput('Nothing to append', 'Give --kind and --subject, or pipe JSON lines with --stdin.')
    const json = this.jsonEnabled()
    const request = fromStdin
      ? { lines: process.stdin, stream, chunk }
      : {
          event: { kind: kind!, subject: this.flags.subject, message: this.flags.message, data: this.flags.data, links: this.flags.link },
          chunk,
        }
    const summary = await appendEvents(this.settings, request, {
      onAck: json ? undefined : (events) => this.log(events.map((event) => event.id).join('\n')),
    })
    if (!json) this.note(describeAppend(summary))
    return summary
  }
}
