import { Args, Flags } from '@oclif/core'
import { durationFlag, OpsCommand } from '../../src/cli/index.js'
import { verdict } from '../../src/core/index.js'
import { drainBackend, renderDrain } from '../../src/traffic/index.js'
import { controlFlags } from './status.js'

export default class RouterDrain extends OpsCommand<typeof RouterDrain> {
  static override summary = 'Drain a backend: no new requests, in-flight ones finish (up to --timeout), then its connections close.'
  static override description =
    'Waits until its in-flight count reaches 0 (exit 0) or the timeout passes (exit 1; the built-in router then aborts what is left). ' +
    'Recorded in the ops journal (router.state, router.drained). Undo with router undrain.'
  static override examples = [
    '<%= config.bin %> router drain canary',
    '<%= config.bin %> router drain stable --timeout 2m',
    '<%= config.bin %> router drain app/canary --haproxy-socket /run/haproxy/admin.sock --no-wait',
  ]
  static override args = { backend: Args.string({ required: true, description: 'The backend: name, or pool/name.' }) }
  static override flags = {
    timeout: durationFlag({ description: 'How long to wait for in-flight requests [default: from config key router.drainTimeout].' }),
    'no-wait': Flags.boolean({ description: 'Return as soon as no new requests go to it.' }),
    ...controlFlags,
  }

  async run() {
    const result = await drainBackend(
      this.settings,
      {
        backend: this.args.backend,
        timeoutMs: this.flags.timeout,
        noWait: this.flags['no-wait'],
        adminUrl: this.flags['admin-url'],
        haproxySocket: this.flags['haproxy-socket'],
      },
      (message) => this.note(message),
    )
    this.render(result, renderDrain)
    const done = result.drained || this.flags['no-wait']
    return this.conclude(
      result,
      done
        ? verdict('pass', [])
        : verdict('fail', [`${result.remaining} request(s) still in flight on ${result.backend} after ${result.waitedMs} ms`], {
            hint: 'Drain again with a longer --timeout.',
          }),
    )
  }
}
