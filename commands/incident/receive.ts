import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { receiverOptions, renderReceiverStarted, renderRequest, startAlertReceiver } from '../../src/incident/index.js'

export default class IncidentReceive extends OpsCommand<typeof IncidentReceive> {
  static override summary = "Receive Alertmanager's webhook notifications: a firing group opens an incident, later ones update it."
  static override description = [
    "Point a webhook_config at it (payload version 4). Credentials as Alertmanager's http_config sends them: a bearer token",
    '(incident.receiver.token, OPSCTL_INCIDENT_RECEIVER_TOKEN, or --token-file) or basic auth (incident.receiver.username and',
    'password). A firing group opens an incident; new alerts of the group and recoveries (send_resolved) are appended to it, each',
    "alert's endsAt on the timeline; a repeat or a redelivery writes nothing. When every alert has resolved the incident says so",
    '(and is mitigated by the integration if incident.mitigateWhenAlertsResolve is set); a person resolves it. Refusals are 4xx with',
    'a reason and write nothing (wrong path 404, method 405, credentials 401, body over incident.receiver.maxBody 413, not JSON',
    '415, a malformed or non-version-4 payload 400); a journal that cannot be written is 503, which Alertmanager retries. Each',
    'request is logged on stderr. Listens on 127.0.0.1 unless told otherwise; put TLS in front of it beyond this machine.',
  ].join('\n')
  static override examples = [
    'OPSCTL_INCIDENT_RECEIVER_TOKEN="$(cat /etc/opsctl/receiver-token)" <%= config.bin %> incident receive',
    '<%= config.bin %> incident receive --port 9095 --token-file /etc/opsctl/receiver-token',
    "# alertmanager.yml: receivers: [{name: opsctl, webhook_configs: [{url: 'http://127.0.0.1:9095/alertmanager', send_resolved: true, http_config: {authorization: {credentials_file: /etc/opsctl/receiver-token}}}]}]",
  ]
  static override flags = {
    host: Flags.string({ description: 'Address to listen on [default: from config key incident.receiver.host].' }),
    port: Flags.integer({ min: 0, max: 65535, description: 'Port, 0 picks a free one [default: from config key incident.receiver.port].' }),
    path: Flags.string({ description: 'Path of the webhook url [default: from config key incident.receiver.path].' }),
    'token-file': Flags.string({ description: "A file with the bearer token (as Alertmanager's credentials_file)." }),
  }

  async run() {
    const options = receiverOptions(this.settings, {
      host: this.flags.host,
      port: this.flags.port,
      path: this.flags.path,
      tokenFile: this.flags['token-file'],
    })
    const receiver = await startAlertReceiver(this.settings, { ...options, onRequest: (report) => this.note(renderRequest(report)) })
    const summary = { url: receiver.url, auth: receiver.auth }
    if (this.jsonEnabled()) this.note(JSON.stringify(summary))
    else this.render(summary, renderReceiverStarted)
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'))
      process.once('SIGTERM', () => resolve('SIGTERM'))
    })
    this.note('Stopping...')
    await receiver.stop()
    return signal === 'SIGINT' ? this.interrupted(summary) : summary
  }
}
