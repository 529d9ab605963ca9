import { Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderRouterStatus, routerStatus } from '../../src/traffic/index.js'

/** Where router commands act: the running router's admin API, or HAProxy. */
export const controlFlags = {
  'admin-url': Flags.string({
    description: "The router's admin API (default: the router started from this directory, else router.adminHost/adminPort).",
  }),
  'haproxy-socket': Flags.string({
    description: 'Drive HAProxy through this admin stats socket instead [default: from config key router.haproxySocket].',
  }),
}

export default class RouterStatus extends OpsCommand<typeof RouterStatus> {
  static override summary = 'Backends, weights, states, health, in-flight requests, errors and latency of the router (or HAProxy).'
  static override examples = [
    '<%= config.bin %> router status',
    "<%= config.bin %> router status --json | jq '.backends[] | {backend, requests, inFlight}'",
    '<%= config.bin %> router status --haproxy-socket /run/haproxy/admin.sock',
  ]
  static override flags = { ...controlFlags }

  async run() {
    const status = await routerStatus(this.settings, { adminUrl: this.flags['admin-url'], haproxySocket: this.flags['haproxy-socket'] })
    return this.render(status, renderRouterStatus)
  }
}
