import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { parseSeverity, renderStart, severityHelp, startIncident } from '../../src/incident/index.js'

export default class IncidentStart extends OpsCommand<typeof IncidentStart> {
  static override summary = 'Declare an incident: title and severity, or from an Alertmanager payload (webhook body or API v2 alert list).'
  static override description = [
    'Records incident.opened in the ops journal and prints the incident id (INC-<day>-<code>) and the runbooks whose ' +
      'symptoms or alerts match. --from-alertmanager takes the title from the group (commonAnnotations.summary, else the alert names ' +
      "and how many fire), the severity from the alerts' severity label as mapped by incident.severities in opsctl.yaml " +
      '(critical -> SEV1 by default; the output says which label gave it; --sev overrides), the service label, and keeps every ' +
      'alert with its labels, annotations, generatorURL and fingerprint. The same alert group again appends its new alerts and ' +
      'recoveries to the incident already open, and a repeat changes nothing. For a live feed, run opsctl incident receive.',
    '',
    'Severities (SEV1 is the worst):',
    severityHelp(),
  ].join('\n')
  static override examples = [
    '<%= config.bin %> incident start "Checkout returns 500s" --sev 2 --service api --commander alice --impact-started 15m',
    '<%= config.bin %> incident start --from-alertmanager alert.json',
    'curl -s localhost:9093/api/v2/alerts | <%= config.bin %> incident start --from-alertmanager - --sev critical',
  ]
  static override args = {
    title: Args.string({
      ignoreStdin: true,
      description: 'What is wrong, as users see it (default with --from-alertmanager: the alert summary).',
    }),
  }
  static override flags = {
    sev: Flags.string({ description: 'Severity 1 to 5 or its name: critical, major, minor, low, informational (SEV1 is the worst).' }),
    service: Flags.string({ description: 'The service affected.' }),
    commander: Flags.string({ description: 'The incident commander.' }),
    'impact-started': Flags.string({ description: 'When users started to be hurt: an ISO 8601 time, or a duration back from now (15m).' }),
    'from-alertmanager': Flags.string({
      description: 'An Alertmanager webhook body (version 4) or API v2 alert list: a JSON file, or - for stdin.',
    }),
  }

  async run() {
    const from = this.flags['from-alertmanager']
    const result = await startIncident(
      this.settings,
      {
        title: this.args.title,
        severity: this.flags.sev === undefined ? undefined : parseSeverity(this.flags.sev),
        service: this.flags.service,
        commander: this.flags.commander,
        impactStarted: this.flags['impact-started'],
        alertmanagerFile: from,
        alertmanagerText: from === '-' ? await readStdin() : undefined,
      },
      { note: (message) => this.note(message) },
    )
    return this.render(result, renderStart)
  }
}

async function readStdin(): Promise<string> {
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  return text
}
