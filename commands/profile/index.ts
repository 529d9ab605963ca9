import { Flags } from '@oclif/core'
import { OpsCommand, databaseConfigFlags, databaseFlags, durationFlag } from '../../src/cli/index.js'
import { referenceServiceCommand } from '../../src/demo/index.js'
import { commandAfterDashes, parseRequestRate, profileInputs, profileTarget, renderProfileRun } from '../../src/profile/index.js'

export default class Profile extends OpsCommand<typeof Profile> {
  static override summary = 'Profile a Node service under load: flame graph, folded stacks, .cpuprofile and its hot functions.'
  static override description = [
    "Starts the target (the node command after --, or --service reference) with V8's CPU profiler, waits for it to open a port,",
    'drives load at it through the load module, stops it with SIGTERM so the profile is written, and writes flamegraph.html (0x),',
    'profile.folded and profile.cpuprofile (both cut to the load run) to --out. Prints the top functions by self and total time and',
    'the shares of GC, idle and native code; records a profile.run event in the journal. --heap samples allocations instead.',
    "The target runs with V8's inlining off, so a function V8 would inline into its caller keeps its own samples (the report says",
    'so); --keep-inlining runs it unchanged. A target that exits early, crashes or never opens a port is exit 3, and whatever was',
    'captured is still written.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> profile --service reference --duration 10s',
    '<%= config.bin %> profile --load /orders --duration 20s -- node server.js',
    '<%= config.bin %> profile --load http://127.0.0.1:3000/search?q=x -- node --import tsx src/server.ts',
    '<%= config.bin %> profile --heap --load /orders -- node server.js',
  ]
  static override usage = [
    '<%= command.id %> [--load PATH|URL | --scenario FILE] [--duration 20s] [--heap] -- node [node flags] app.js [args]',
    '<%= command.id %> --service reference [--database-url URL] [--duration 20s]',
  ]
  static override strict = false
  static override configFlags = { ...databaseConfigFlags }
  static override flags = {
    load: Flags.string({ description: 'Path (/orders) or loopback URL to load; without a port, the port the target opens.' }),
    scenario: Flags.string({ description: 'A load scenario file instead of --load (its requests go to the target).' }),
    duration: durationFlag({ description: 'How long to drive load, e.g. 20s (default 20s; a scenario keeps its own).' }),
    connections: Flags.integer({ description: 'Concurrent connections of the load.', min: 1, max: 1000 }),
    rate: Flags.custom<number>({ helpValue: '<rps>', parse: async (input) => parseRequestRate(input) })({
      description: 'Requests per second (open model); default: as fast as the target answers.',
    }),
    service: Flags.string({ description: 'Profile a service opsctl knows instead of a command: reference.', options: ['reference'] }),
    ...databaseFlags,
    heap: Flags.boolean({ description: 'Sample allocations (bytes per call stack) instead of CPU time.' }),
    'keep-inlining': Flags.boolean({
      description: "Run the target with V8's inlining on, as in production: an inlined function's time then counts in its caller.",
    }),
    out: Flags.string({ description: 'Output directory (default .opsctl/profiles/<time>/).' }),
    top: Flags.integer({ description: 'Functions in each top list.', default: 10, min: 1, max: 100 }),
    'start-timeout': durationFlag({ description: 'How long the target may take to open its port (default 30s).' }),
    renderer: Flags.string({
      description: 'Who draws flamegraph.html: 0x, or opsctl (self-contained, no 0x).',
      options: ['0x', 'opsctl'],
      default: '0x',
    }),
  }

  async run() {
    const inputs = profileInputs(this.flags, commandAfterDashes(this.argv), {
      stateDir: this.settings.stateDir,
      databaseUrl: this.settings.config.database.url,
      services: { reference: referenceServiceCommand },
    })
    const run = await profileTarget({
      ...inputs,
      mode: this.flags.heap ? 'heap' : 'cpu',
      keepInlining: this.flags['keep-inlining'],
      top: this.flags.top,
      renderer: this.flags.renderer as '0x' | 'opsctl',
      journal: this.settings,
      note: (message) => this.note(message),
      signal: this.interruptSignal,
    })
    this.render(run, renderProfileRun)
    return run.interrupted ? this.interrupted(run) : run
  }
}
