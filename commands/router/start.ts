import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderRouterStarted, runRouter } from '../../src/traffic/index.js'

export default class RouterStart extends OpsCommand<typeof RouterStart> {
  static override summary = 'Run the built-in router in the foreground: weighted, sticky, health-checked HTTP routing to named backends.'
  static override description = [
    'An HTTP/1.1 reverse proxy on one host: requests go by path prefix (--route) to a pool, then by weight to a backend;',
    'sticky by cookie or by a hashed header (a user id); the x-opsctl-route header names a backend for testers. Backends',
    'that fail health checks or refuse connections are taken out. The admin API (loopback, token in .opsctl/router/token',
    'or OPSCTL_ROUTER_TOKEN) is what router status|set-weight|drain|undrain use; weights and states are saved in',
    '.opsctl/router/state.json and restored on restart when the backends are the same (--reset starts afresh).',
    'With --json, one JSON line is printed as soon as it listens (URLs and ports), and a summary when it stops.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> router start --backend stable=http://127.0.0.1:3001 --backend canary=http://127.0.0.1:3002 --weights stable=90,canary=10',
    '<%= config.bin %> router start --backend app=http://127.0.0.1:3000 --backend payments/pay=http://127.0.0.1:4000 --route /payments=payments',
    '<%= config.bin %> router start --port 0 --admin-port 0 --json | head -1 | jq -r .url',
  ]
  static override flags = {
    backend: Flags.string({ multiple: true, description: 'A backend, [pool/]name=http://host:port (repeatable; default pool "default").' }),
    weights: Flags.string({
      multiple: true,
      description: 'Initial weights, name=percent,... summing to 100 per pool (default: equal shares).',
    }),
    route: Flags.string({ multiple: true, description: 'A path prefix and its pool, /prefix=pool (repeatable).' }),
    host: Flags.string({ description: 'Address to listen on [default: from config key router.host].' }),
    port: Flags.integer({ min: 0, max: 65535, description: 'Port (0 picks a free one) [default: from config key router.port].' }),
    'admin-host': Flags.string({ description: 'Address of the admin API [default: from config key router.adminHost].' }),
    'admin-port': Flags.integer({ min: 0, max: 65535, description: 'Port of the admin API [default: from config key router.adminPort].' }),
    'sticky-cookie': Flags.string({ description: 'Keep each client on its backend with this cookie.' }),
    'sticky-header': Flags.string({ description: 'Hash this header (e.g. x-user-id) to keep each user on one backend.' }),
    reset: Flags.boolean({ description: 'Ignore the saved weights and states.' }),
  }

  async run() {
    let stoppedBy: NodeJS.Signals | undefined
    process.once('SIGINT', () => (stoppedBy ??= 'SIGINT'))
    process.once('SIGTERM', () => (stoppedBy ??= 'SIGTERM'))
    const json = this.jsonEnabled()
    const run = await runRouter(
      this.settings,
      {
        backends: this.flags.backend,
        weights: this.flags.weights,
        routes: this.flags.route,
        host: this.flags.host,
        port: this.flags.port,
        adminHost: this.flags['admin-host'],
        adminPort: this.flags['admin-port'],
        stickyCookie: this.flags['sticky-cookie'],
        stickyHeader: this.flags['sticky-header'],
        reset: this.flags.reset,
      },
      {
        signal: this.interruptSignal,
        log: (message) => this.note(message),
        // With --json: one line as soon as it listens, so that scripts learn the ports, and one when it stops.
        onListening: (started) => (json ? jsonLine({ event: 'listening', ...started }) : this.render(started, renderRouterStarted)),
      },
    )
    if (json) jsonLine({ event: 'stopped', ...run })
    else this.note('Stopped.')
    if (stoppedBy === 'SIGINT') this.interrupted(run)
    return json ? undefined : run
  }
}

function jsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}
