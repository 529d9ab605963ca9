import { Flags } from '@oclif/core'
import { badInput } from '../src/core/index.js'
import { OpsCommand, databaseConfigFlags, databaseFlags, durationFlag } from '../src/cli/index.js'
import { renderDemoStarted, renderDemoStopped, startDemo, type DemoSummary } from '../src/demo/index.js'

export default class Demo extends OpsCommand<typeof Demo> {
  static override summary = 'Run the reference service on the embedded database (or DATABASE_URL) with light traffic.'
  static override description =
    'Starts the database, migrates and seeds it, starts the reference service and drives a few requests per second at it, ' +
    'then prints the URLs and what to try next. Ctrl-C stops everything and leaves no process behind.'
  static override examples = [
    '<%= config.bin %> demo',
    '<%= config.bin %> demo --port 0 --scale 0.1 --duration 30s',
    'DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres <%= config.bin %> demo',
  ]
  static override flags = {
    port: Flags.integer({
      description: 'Port of the reference service on 127.0.0.1 (0 picks a free one).',
      default: 3000,
      min: 0,
      max: 65535,
    }),
    scale: Flags.string({ description: 'Seed scale: 1 is about 5k users, 20k orders, 100k items.', default: '1' }),
    'traffic-rate': Flags.integer({ description: 'Background requests per second (0 for none).', default: 5, min: 0, max: 200 }),
    duration: durationFlag({ description: 'Stop by itself after this long, e.g. 30s (default: until Ctrl-C).' }),
    ...databaseFlags,
  }
  static override configFlags = databaseConfigFlags

  async run() {
    const scale = Number(this.flags.scale)
    if (!(scale > 0 && scale <= 100)) throw badInput(`--scale must be a number above 0 and at most 100, got "${this.flags.scale}"`)
    const demo = await startDemo({
      settings: this.settings,
      port: this.flags.port,
      scale,
      trafficRate: this.flags['traffic-rate'],
      commandIds: this.config.commandIDs,
      log: (message) => this.note(message),
    })
    this.render(demo, renderDemoStarted)
    const reason = await waitForStop(this.interruptSignal, this.flags.duration)
    this.note(reason === 'signal' ? '\nStopping...' : 'Duration reached; stopping...')
    const summary: DemoSummary = await demo.stop()
    this.render(summary, renderDemoStopped)
    const result = {
      serviceUrl: demo.serviceUrl,
      database: { kind: demo.database.kind, description: demo.database.description },
      rows: demo.rows,
      ...summary,
    }
    return reason === 'signal' ? this.interrupted(result) : result
  }
}

function waitForStop(interrupt: AbortSignal, durationMs: number | undefined): Promise<'signal' | 'duration'> {
  return new Promise((resolve) => {
    interrupt.addEventListener('abort', () => resolve('signal'), { once: true })
    if (durationMs !== undefined) setTimeout(() => resolve('duration'), durationMs).unref()
  })
}
