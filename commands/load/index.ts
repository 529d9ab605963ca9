import { Args, Command, Flags } from '@oclif/core'
import { OpsCommand, durationFlag } from '../../src/cli/index.js'
import { formatDuration } from '../../src/core/index.js'
import {
  DEFAULT_DURATION_MS,
  DEFAULT_TIMEOUT_MS,
  loadVerdict,
  parseHeaderFlags,
  parseMethodFlag,
  renderLoadResult,
  runRecordedLoad,
  type LoadCommandFlags,
  type LoadResult,
  type LoadSource,
} from '../../src/load/index.js'

/** Flags shared by `load URL` and `load run SCENARIO`. */
export const loadFlags = {
  connections: Flags.integer({
    char: 'c',
    description: 'Connections (closed model: all busy at once; open model: at most this many in flight).',
    min: 1,
    max: 10_000,
  }),
  duration: durationFlag({
    char: 'd',
    description: `Measured duration after the warm-up, e.g. 30s (default ${formatDuration(DEFAULT_DURATION_MS)}).`,
    exclusive: ['requests'],
  }),
  requests: Flags.integer({ char: 'n', description: 'Measured request count instead of a duration.', min: 1, exclusive: ['duration'] }),
  rate: Flags.string({
    char: 'r',
    description: 'Open model: constant arrival rate (requests/s); latencies count from the intended send time.',
  }),
  warmup: durationFlag({ description: 'Load before measuring, excluded from the statistics, e.g. 5s.' }),
  timeout: durationFlag({
    description: `A request without an answer for this long is a timeout (default ${formatDuration(DEFAULT_TIMEOUT_MS)}).`,
  }),
  threshold: Flags.string({
    description: "Exit 1 unless it holds: 'p99<250ms', 'p95<100ms', 'error_rate<1%', 'rps>500'. Repeatable.",
    multiple: true,
  }),
  out: Flags.string({ description: 'Write the result (JSON) to this file, e.g. for a later --baseline.' }),
  baseline: Flags.string({ description: 'Result file to compare with: "regressed" (exit 1), "improved" or "no significant change".' }),
  runs: Flags.integer({
    description: 'Repeat the run N times; comparisons use the per-second samples of all runs.',
    default: 1,
    min: 1,
    max: 100,
  }),
  workers: Flags.integer({
    description: 'autocannon worker threads (default: only when the rate needs them and cores allow).',
    min: 0,
    max: 64,
  }),
  'allow-remote': Flags.boolean({ description: 'Allow a target that is not a loopback address. Only load servers you own.' }),
}

/** `load URL` and `load run SCENARIO`: the run, its report, then the verdict (interrupted is 130). */
export abstract class LoadCommand<T extends typeof Command> extends OpsCommand<T> {
  protected async runLoad(source: LoadSource): Promise<LoadResult> {
    const output = {
      settings: this.settings,
      note: (message: string) => this.note(message),
      progress: this.progress,
      signal: this.interruptSignal,
    }
    const result = await runRecordedLoad(source, this.flags as LoadCommandFlags, output)
    this.render(result, renderLoadResult)
    return result.aggregate.interrupted ? this.interrupted(result) : this.conclude(result, loadVerdict(result))
  }
}

export default class Load extends LoadCommand<typeof Load> {
  static override summary = 'Load a URL on this machine: closed model (-c) or open model (--rate), with thresholds and a baseline verdict.'
  static override description =
    'Latency percentiles come from an HDR histogram; in the open model they count from the intended send time (coordinated omission corrected). ' +
    'Exit 1 when a --threshold fails or the run regressed against --baseline; exit 4 when the measurement is invalid (the generator was the ' +
    'bottleneck, or the open model fell more than 5% short of its rate). Only loopback targets unless --allow-remote. Scenarios: opsctl load run.'
  static override examples = [
    '<%= config.bin %> load http://127.0.0.1:3000/users/1/orders -c 20 -d 30s',
    "<%= config.bin %> load http://127.0.0.1:3000/healthz --rate 500 -d 1m --threshold 'p99<250ms' --threshold 'error_rate<1%'",
    '<%= config.bin %> load http://127.0.0.1:3000/ --rate 200 -d 20s --runs 3 --out before.json',
    '<%= config.bin %> load http://127.0.0.1:3000/ --rate 200 -d 20s --runs 3 --baseline before.json',
  ]
  static override args = { url: Args.string({ description: 'The URL to load (http or https, on this machine).', required: true }) }
  static override flags = {
    ...loadFlags,
    method: Flags.string({ char: 'm', description: 'HTTP method (default GET).' }),
    header: Flags.string({ char: 'H', description: "A request header, 'name: value'. Repeatable.", multiple: true }),
    body: Flags.string({ char: 'b', description: 'Request body.' }),
    'expect-status': Flags.integer({
      description: 'Expected status (default: any below 400). Repeatable.',
      multiple: true,
      min: 100,
      max: 599,
    }),
  }

  async run() {
    const { method, header, body, 'expect-status': expectStatus } = this.flags
    const source = { url: { url: this.args.url, method: parseMethodFlag(method), headers: parseHeaderFlags(header), body, expectStatus } }
    return this.runLoad(source)
  }
}
