import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderWeights, setRouterWeights } from '../../src/traffic/index.js'
import { controlFlags } from './status.js'

export default class RouterSetWeight extends OpsCommand<typeof RouterSetWeight> {
  static override summary =
    "Set a pool's weights (whole percent, summing to 100) on the running router or HAProxy, without dropping a request."
  static override description = 'Every backend of the pool is named. The change is recorded in the ops journal (router.weight).'
  static override examples = [
    '<%= config.bin %> router set-weight stable=75,canary=25',
    '<%= config.bin %> router set-weight --pool payments v1=0,v2=100',
    '<%= config.bin %> router set-weight --haproxy-socket /run/haproxy/admin.sock --pool app stable=90,canary=10',
  ]
  static override args = { weights: Args.string({ required: true, description: 'name=percent,... e.g. stable=90,canary=10' }) }
  static override strict = false
  static override flags = {
    pool: Flags.string({ description: 'The pool (default: the only pool, or "default").' }),
    ...controlFlags,
  }

  async run() {
    const { argv } = await this.parse(RouterSetWeight)
    const snapshot = await setRouterWeights(
      this.settings,
      {
        weights: argv as string[],
        pool: this.flags.pool,
        adminUrl: this.flags['admin-url'],
        haproxySocket: this.flags['haproxy-socket'],
      },
      (message) => this.note(message),
    )
    return this.render(snapshot, renderWeights)
  }
}
