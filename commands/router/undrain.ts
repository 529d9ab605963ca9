import { Args, Flags } from '@oclif/core'
import { OpsCommand } from '../../src/cli/index.js'
import { renderState, undrainBackend } from '../../src/traffic/index.js'
import { controlFlags } from './status.js'

export default class RouterUndrain extends OpsCommand<typeof RouterUndrain> {
  static override summary = 'Put a drained (or maint) backend back in rotation; with --maint, take it out at once instead.'
  static override description = 'Recorded in the ops journal (router.state).'
  static override examples = [
    '<%= config.bin %> router undrain canary',
    '<%= config.bin %> router undrain canary --maint',
    '<%= config.bin %> router undrain app/canary --haproxy-socket /run/haproxy/admin.sock',
  ]
  static override args = { backend: Args.string({ required: true, description: 'The backend: name, or pool/name.' }) }
  static override flags = {
    maint: Flags.boolean({ description: 'Set it to maint (out at once, in-flight requests still finish) instead of ready.' }),
    ...controlFlags,
  }

  async run() {
    const snapshot = await undrainBackend(
      this.settings,
      {
        backend: this.args.backend,
        state: this.flags.maint ? 'maint' : 'ready',
        adminUrl: this.flags['admin-url'],
        haproxySocket: this.flags['haproxy-socket'],
      },
      (message) => this.note(message),
    )
    return this.render(snapshot, renderState)
  }
}
