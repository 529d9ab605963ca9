import { Flags } from '@oclif/core'
import { OpsCommand, databaseConfigFlags, databaseFlags, durationFlag, sizeFlag } from '../../src/cli/index.js'
import { referenceServiceCommand } from '../../src/demo/index.js'
import { commandAfterDashes, findLeaks, parseRequestRate, profileInputs, renderLeakRun } from '../../src/profile/index.js'

export default class ProfileLeak extends OpsCommand<typeof ProfileLeak> {
  static override summary = 'Find what grows in the heap under load: two heap snapshots, ranked growth, retaining paths.'
  static override description = [
    'Starts the target with a preloaded helper, warms it up with load, takes a heap snapshot after a forced GC, drives load,',
    'takes another, and ranks what grew: the objects holding the growth (constructor, entries, retained size, retaining path,',
    'e.g. "an Array in leakyCache grew by 48,000 entries") and the growth by constructor. Growth under --min-growth is noise.',
    'The snapshots stay in --out for Chrome DevTools (Memory → Load).',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> profile leak --load /orders --duration 30s -- node server.js',
    '<%= config.bin %> profile leak --service reference --load /orders',
  ]
  static override usage = [
    '<%= command.id %> [--load PATH|URL | --scenario FILE] [--duration 20s] [--warmup 3s] -- node [node flags] app.js [args]',
    '<%= command.id %> --service reference --load /orders',
  ]
  static override strict = false
  static override configFlags = { ...databaseConfigFlags }
  static override flags = {
    load: Flags.string({ description: 'Path (/orders) or loopback URL to load; without a port, the port the target opens.' }),
    scenario: Flags.string({ description: 'A load scenario file instead of --load.' }),
    duration: durationFlag({ description: 'Load between the two snapshots, e.g. 30s (default 20s).' }),
    warmup: durationFlag({
      description: 'Load before the first snapshot, so what fills once (caches, compiled code) is not counted (default 3s).',
    }),
    connections: Flags.integer({ description: 'Concurrent connections of the load.', min: 1, max: 1000 }),
    rate: Flags.custom<number>({ helpValue: '<rps>', parse: async (input) => parseRequestRate(input) })({
      description: 'Requests per second (open model).',
    }),
    service: Flags.string({ description: 'A service opsctl knows instead of a command: reference.', options: ['reference'] }),
    ...databaseFlags,
    'min-growth': sizeFlag({ description: 'Retained growth below this is noise, e.g. 1MB (default 1MB).' }),
    out: Flags.string({ description: 'Output directory (default .opsctl/profiles/leak-<time>/).' }),
    top: Flags.integer({ description: 'Rows in each list.', default: 10, min: 1, max: 100 }),
    'start-timeout': durationFlag({ description: 'How long the target may take to open its port (default 30s).' }),
  }

  async run() {
    const inputs = profileInputs(this.flags, commandAfterDashes(this.argv), {
      stateDir: this.settings.stateDir,
      databaseUrl: this.settings.config.database.url,
      services: { reference: referenceServiceCommand },
      outPrefix: 'leak-',
    })
    const run = await findLeaks({
      ...inputs,
      ...(this.flags.warmup !== undefined ? { warmupMs: this.flags.warmup } : {}),
      ...(this.flags['min-growth'] !== undefined ? { minGrowthBytes: this.flags['min-growth'] } : {}),
      top: this.flags.top,
      journal: this.settings,
      note: (message) => this.note(message),
    })
    return this.render(run, renderLeakRun)
  }
}
