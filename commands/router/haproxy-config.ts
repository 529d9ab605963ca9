import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { haproxyConfigFor } from '../../src/traffic/index.js'

export default class RouterHaproxyConfig extends OpsCommand<typeof RouterHaproxyConfig> {
  static override summary = 'Print a starting HAProxy configuration for a stable/canary pair, with the runtime API socket opsctl drives.'
  static override description =
    'Yours to keep and edit: opsctl needs only the admin-level stats socket and the backend/server names. ' +
    'Backends and weights come from the flags or router.backends/router.weights; with --json, the text is in .config.'
  static override examples = [
    '<%= config.bin %> router haproxy-config --backend stable=http://10.0.0.11:3000 --backend canary=http://10.0.0.12:3000 --weights stable=90,canary=10 > haproxy.cfg',
    '<%= config.bin %> router haproxy-config --socket /run/haproxy/admin.sock --bind :80 --sticky-cookie opsctl_route',
    '<%= config.bin %> router haproxy-config --log 127.0.0.1:5514   # per-request latencies for the canary judge',
  ]
  static override flags = {
    backend: Flags.string({
      multiple: true,
      description: 'A server, name=http://host:port (repeatable) [default: from config key router.backends].',
    }),
    weights: Flags.string({ multiple: true, description: 'name=percent,... summing to 100 (default: equal shares).' }),
    socket: Flags.string({
      description: 'Path of the runtime API socket [default: from config key router.haproxySocket, else /run/haproxy/admin.sock].',
    }),
    bind: Flags.string({ description: 'What the frontend binds.', default: '127.0.0.1:8080' }),
    pool: Flags.string({ description: 'Name of the HAProxy backend.', default: 'app' }),
    'sticky-cookie': Flags.string({ description: 'Keep each client on its server with this cookie.' }),
    log: Flags.string({
      description:
        "Log each request to this UDP host:port in opsctl's format, for raw latency samples [default: from config key router.haproxyLog].",
    }),
  }

  async run() {
    const result = haproxyConfigFor(this.settings, {
      backends: this.flags.backend,
      weights: this.flags.weights,
      socket: this.flags.socket,
      bind: this.flags.bind,
      pool: this.flags.pool,
      stickyCookie: this.flags['sticky-cookie'],
      logTarget: this.flags.log,
    })
    return this.render(result, (value) => value.config.trimEnd())
  }
}
