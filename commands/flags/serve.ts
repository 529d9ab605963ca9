import { Flags } from '@oclif/core'
import { redactValue } from '../../src/core/index.js'
import { OpsCommand } from '../../src/cli/index.js'
import {
  DEFAULT_FLAG_SERVER_PORT,
  flagServerOptions,
  reloadRecord,
  renderReload,
  renderServeStarted,
  serveSummary,
  startFlagServer,
} from '../../src/flags/index.js'

export default class FlagsServe extends OpsCommand<typeof FlagsServe> {
  static override summary = "Serve flags.yaml to any Unleash SDK: Unleash's client API and frontend API, no Unleash server needed."
  static override description = [
    "Endpoints under /api: client/features (ETag/304), client/delta and client/streaming (the SDKs' delta and streaming",
    'modes), client/register, client/metrics, and frontend (evaluated here, for browser SDKs). Each environment has a client and a frontend token (Unleash format project:environment.secret); without',
    '--client-token/--frontend-token they are generated once and kept in .opsctl/flags/tokens.json. Requests without a valid',
    'token get 401. The file is reloaded when it changes; an edit that fails validation is reported with its line and the last',
    'good flags stay served. Evaluation counts SDKs report go to .opsctl/flags/metrics.json, for flags list and flags stale.',
    'With --json, one JSON line is printed when it listens (url, port, environments); reloads and notices go to stderr as',
    'JSON lines.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> flags serve',
    '<%= config.bin %> flags serve --port 0 --show-tokens',
    '<%= config.bin %> flags serve --port 0 --json | head -1 | jq -r .url   # the URL, printed once it listens',
    'UNLEASH_URL=http://127.0.0.1:4242/api UNLEASH_API_TOKEN="$(jq -r .client.development .opsctl/flags/tokens.json)" node app.js',
  ]
  static override flags = {
    file: Flags.string({ description: 'flags.yaml to serve (default: flags.yaml beside opsctl.yaml).' }),
    host: Flags.string({ description: 'Address to listen on.', default: '127.0.0.1' }),
    port: Flags.integer({ description: 'Port (0 picks a free one).', default: DEFAULT_FLAG_SERVER_PORT, min: 0, max: 65535 }),
    'client-token': Flags.string({
      multiple: true,
      description: 'A client API token, project:environment.secret. Repeatable, one per environment.',
    }),
    'frontend-token': Flags.string({ multiple: true, description: 'A frontend API token, project:environment.secret. Repeatable.' }),
    'show-tokens': Flags.boolean({ description: 'Print the tokens (they are secrets: not printed otherwise).' }),
  }

  async run() {
    const options = flagServerOptions(this.settings, {
      file: this.flags.file,
      host: this.flags.host,
      port: this.flags.port,
      clientTokens: this.flags['client-token'],
      frontendTokens: this.flags['frontend-token'],
    })
    const json = this.jsonEnabled()
    const server = await startFlagServer({
      ...options,
      onReload: (event) => this.note(json ? JSON.stringify(reloadRecord(event)) : renderReload(event)),
      log: (message) => this.note(json ? JSON.stringify({ event: 'log', message }) : message),
    })
    const summary = serveSummary(server, options, this.flags['show-tokens'])
    // Printed as soon as it listens (a script learns the port from this one line); tokens only when asked for.
    const shown = this.flags['show-tokens'] ? summary : redactValue(summary)
    process.stdout.write(json ? `${JSON.stringify(shown)}\n` : `${renderServeStarted(shown, this.colors)}\n`)
    for (const notice of summary.notices) this.note(json ? JSON.stringify({ event: 'notice', message: notice }) : `notice: ${notice}`)
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'))
      process.once('SIGTERM', () => resolve('SIGTERM'))
    })
    if (!json) this.note('Stopping...')
    await server.stop()
    // The document was the line printed at the start: nothing more on stdout.
    const result = json ? undefined : summary
    return signal === 'SIGINT' ? this.interrupted(result) : result
  }
}
