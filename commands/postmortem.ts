import { Args, Flags } from '@oclif/core'
import { OpsCommand, durationFlag } from '../src/cli/index.js'
import { POSTMORTEM_FORMATS, generatePostmortem, type PostmortemFormat } from '../src/incident/index.js'

export default class Postmortem extends OpsCommand<typeof Postmortem> {
  static override summary =
    'Write the blameless post-mortem of an incident: timeline, response figures, and prompts for what only people know.'
  static override description =
    'Sections of the Google SRE and PagerDuty templates: summary, impact, severity, responders, contributing factors, trigger, ' +
    'detection, resolution, what went well, what went badly, where we got lucky, action items (from TODO: notes) and the ' +
    "timeline: the incident's events and every journal event in its window (deploys, rollbacks, flag kills, verdicts, runs), " +
    'from --lead-in before the impact to the resolution. Times to detect, acknowledge, mitigate and recover come from the ' +
    "timestamps (time to detect from the impact start a person gave, else from the alert's startsAt, which Prometheus sets after " +
    'the rule\'s for: window); what the journal cannot know is left as "To be written" prompts. Times are UTC. The data is ' +
    'redacted before it is rendered, and each format escapes it.'
  static override examples = [
    '<%= config.bin %> postmortem INC-20261125-7KQ2 --out postmortems/INC-20261125-7KQ2.md',
    '<%= config.bin %> postmortem 7KQ2 --format html --out pm.html',
    '<%= config.bin %> postmortem 7KQ2 --format json | jq .metrics',
  ]
  static override args = { incident: Args.string({ ignoreStdin: true, description: 'Incident id, or its last part.', required: true }) }
  static override flags = {
    format: Flags.string({
      options: [...POSTMORTEM_FORMATS],
      default: 'md',
      description: 'Markdown, JSON, a self-contained HTML page, or plain text.',
    }),
    out: Flags.string({ char: 'o', description: 'Write to this file (kept if it exists, unless --force) instead of stdout.' }),
    force: Flags.boolean({ description: 'Replace an existing --out file.' }),
    'lead-in': durationFlag({
      description:
        'How far before the impact the timeline starts, to show the change that set it off [default: from config key incident.postmortemLeadIn].',
    }),
  }

  async run() {
    const output = await generatePostmortem(this.settings, {
      incident: this.args.incident,
      format: this.flags.format as PostmortemFormat,
      out: this.flags.out,
      force: this.flags.force,
      leadInMs: this.flags['lead-in'],
    })
    if (output.file) this.note(`Wrote ${output.file}.`)
    else if (!this.jsonEnabled()) process.stdout.write(output.text)
    return output.postmortem
  }
}
