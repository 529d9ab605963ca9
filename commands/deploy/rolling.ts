import { Flags } from '@oclif/core'
import { durationFlag, OpsCommand } from '../../src/cli/index.js'
import { renderRun, runRolling } from '../../src/deploy/index.js'
import { controlFlags } from '../router/status.js'
import { rolloutFlags } from './resume.js'

export default class DeployRolling extends OpsCommand<typeof DeployRolling> {
  static override summary = 'Rolling: replace instances one (or --max-unavailable) at a time, judged against those not yet replaced.'
  static override description = [
    'For each instance: drain it, run --command ({instance}, {name} and {address} filled in), wait for its health check,',
    'put it back and judge it against the instances still on the old version for an analysis interval. A failing',
    'instance halts the rollout with the rest untouched. Exit 0 completed, 1 halted, 2 bad input, 130 Ctrl-C.',
  ].join('\n')
  static override examples = [
    "<%= config.bin %> deploy rolling --service api --instances a,b,c --command 'systemctl restart api@{name}'",
    "<%= config.bin %> deploy rolling --service api --instances http://10.0.0.1:3000,http://10.0.0.2:3000 --command './redeploy.sh {address}' --max-unavailable 1 --interval 20s",
  ]
  static override flags = {
    service: Flags.string({ description: 'The service the rollout is recorded under [default: from config key deploy.service].' }),
    instances: Flags.string({
      multiple: true,
      description: 'The instances, backend names or URLs, comma-separated or repeated [default: deploy.rolling.instances].',
    }),
    command: Flags.string({ description: 'The command that replaces one instance [default: deploy.rolling.command].' }),
    'max-unavailable': Flags.integer({ min: 1, description: 'Instances replaced at a time [default: deploy.rolling.maxUnavailable].' }),
    interval: durationFlag({ description: 'Analysis interval per instance [default: from config key deploy.interval].' }),
    warmup: durationFlag({ description: 'Once an instance is back, how long before its analysis window opens [default: deploy.warmup].' }),
    'command-timeout': durationFlag({
      description: 'A replace command still running after this fails [default: deploy.rolling.commandTimeout].',
    }),
    ...rolloutFlags,
    ...controlFlags,
  }

  async run() {
    const run = await runRolling(
      this.settings,
      {
        service: this.flags.service,
        instances: this.flags.instances,
        command: this.flags.command,
        maxUnavailable: this.flags['max-unavailable'],
        intervalMs: this.flags.interval,
        warmupMs: this.flags.warmup,
        commandTimeoutMs: this.flags['command-timeout'],
        analysisFile: this.flags.analysis,
        minSamples: this.flags['min-samples'],
        maxInconclusive: this.flags['max-inconclusive'],
        pool: this.flags.pool,
        version: this.flags.version,
        hooks: this.flags.hook,
        adminUrl: this.flags['admin-url'],
        haproxySocket: this.flags['haproxy-socket'],
      },
      { signal: this.interruptSignal, log: (message) => this.note(message) },
    )
    this.render(run, renderRun)
    return run.interrupted ? this.interrupted(run) : this.conclude(run, run.verdict)
  }
}
