import { Args, Flags } from '@oclif/core'
import { LoadCommand, loadFlags } from './index.js'

export default class LoadRun extends LoadCommand<typeof LoadRun> {
  static override summary = 'Run a load scenario file: weighted requests with variables and checks, open or closed model, thresholds.'
  static override description =
    'The scenario (YAML) is validated first: an unknown key, a wrong type, an unknown {{variable}} or a malformed threshold exits 2 with file:line:col. ' +
    'Flags override the scenario. Exit codes as for opsctl load: 1 threshold or regression, 4 invalid measurement. See docs/load.md.'
  static override examples = [
    '<%= config.bin %> load run load/orders.yaml',
    "<%= config.bin %> load run load/orders.yaml --rate 300 -d 1m --threshold 'p99<300ms' --out results.json",
    '<%= config.bin %> load run load/orders.yaml --runs 3 --baseline main.json',
  ]
  static override args = { scenario: Args.string({ description: 'The scenario file (YAML).', required: true }) }
  static override flags = {
    ...loadFlags,
    target: Flags.string({ description: "Base URL to load instead of the scenario's target." }),
  }

  async run() {
    const source = { scenarioFile: this.args.scenario, target: this.flags.target }
    return this.runLoad(source)
  }
}
