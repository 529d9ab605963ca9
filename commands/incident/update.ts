import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { parseSeverity, renderUpdate, updateIncident } from '../../src/incident/index.js'

export default class IncidentUpdate extends OpsCommand<typeof IncidentUpdate> {
  static override summary =
    'Change an incident after its declaration: raise or lower the severity, retitle it, correct when impact started.'
  static override description =
    'Records one incident.updated event with each change from and to, who and when, and --reason. Works in every state, also after ' +
    'the resolution (a review that finds the real start of impact). The status shows the severity history; the post-mortem shows ' +
    'it and measures its figures from the corrected impact start. A value it already has changes nothing (exit 0).'
  static override examples = [
    '<%= config.bin %> incident update --sev 1 --reason "all EU checkouts failing"',
    '<%= config.bin %> incident update INC-20261125-7KQ2 --title "EU checkout returns 500s"',
    '<%= config.bin %> incident update --impact-started 2026-11-25T13:42:00Z --reason "first 5xx in the load balancer logs"',
  ]
  static override args = { id: Args.string({ ignoreStdin: true, description: 'Incident id (default: the only open incident).' }) }
  static override flags = {
    sev: Flags.string({ description: 'The new severity: 1 to 5 or its name (critical, major, minor, low, informational).' }),
    title: Flags.string({ description: 'The new title.' }),
    'impact-started': Flags.string({
      description: 'When users really started to be hurt: an ISO 8601 time, or a duration back from now (40m).',
    }),
    reason: Flags.string({ char: 'r', description: 'Why (goes into the timeline and the post-mortem).' }),
  }

  async run() {
    const result = await updateIncident(this.settings, {
      incident: this.args.id,
      severity: this.flags.sev === undefined ? undefined : parseSeverity(this.flags.sev),
      title: this.flags.title,
      impactStarted: this.flags['impact-started'],
      reason: this.flags.reason,
    })
    return this.render(result, renderUpdate)
  }
}
