import { Flags } from '@oclif/core'
import { durationFlag, OpsCommand } from '../../src/cli/index.js'
import { renderRun, runCanary } from '../../src/deploy/index.js'
import { controlFlags } from '../router/status.js'
import { rolloutFlags } from './resume.js'

export default class DeployCanary extends OpsCommand<typeof DeployCanary> {
  static override summary =
    'Canary rollout: shift traffic step by step, judge the canary against stable every interval, roll back by itself.'
  static override description = [
    'Runs in the foreground as the rollout’s controller (its state in .opsctl/deploy survives a kill: deploy resume picks it up).',
    'Every interval, the canary is judged against stable over the same window: threshold rules (router numbers, Prometheus',
    'metrics of the backends) and a statistical judge (Mann–Whitney U on latency with an effect-size tolerance, a proportion',
    'test on errors). Too few requests is "inconclusive", never a pass; --max-inconclusive windows in a row pause the rollout.',
    'A failed window rolls back: canary weight 0, drained, the verdict with its numbers printed and journaled, --kill-flag',
    'turned off in the same step. --route makes it a strangler fig: the pool behind a path prefix moves to the new service.',
    'Exit 0 promoted, 1 rolled back or paused for want of evidence, 2 bad input, 130 Ctrl-C (the rollout waits, paused).',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> deploy canary --service api --stable stable --canary canary --steps 5,25,50,100 --interval 30s',
    '<%= config.bin %> deploy canary --service api --stable http://10.0.0.11:3000 --canary http://10.0.0.12:3000 --analysis analysis.yaml --kill-flag new-checkout',
    '<%= config.bin %> deploy canary --service payments --route /payments --stable monolith --canary payments-svc --steps 10,50:promote,100',
    '<%= config.bin %> deploy canary --service api --haproxy-socket /run/haproxy/admin.sock --stable app/s1 --canary app/s2',
  ]
  static override flags = {
    service: Flags.string({ description: 'The service the rollout is recorded under [default: from config key deploy.service].' }),
    stable: Flags.string({ description: 'The current version: a backend name of the router, or its URL [default: deploy.stable].' }),
    canary: Flags.string({ description: 'The new version: a backend name, or its URL [default: deploy.canary].' }),
    route: Flags.string({ description: 'Strangler fig: the path prefix whose pool moves to the new service [default: deploy.route].' }),
    steps: Flags.string({
      description:
        'Canary weights in percent, increasing, up to 100; each may hold for a time or until promoted: 5,25:promote,50:2m,100 [default: deploy.steps].',
    }),
    interval: durationFlag({ description: 'Analysis interval [default: from config key deploy.interval].' }),
    warmup: durationFlag({
      description: 'After each weight change, how long before the analysis window opens [default: from config key deploy.warmup].',
    }),
    'step-duration': durationFlag({
      description: 'How long a step holds its weight (default: one interval) [default: deploy.stepDuration].',
    }),
    'kill-flag': Flags.string({
      description: 'A feature flag to turn off in the same rollback (flags.yaml or Unleash) [default: deploy.killFlag].',
    }),
    ...rolloutFlags,
    ...controlFlags,
  }

  async run() {
    const run = await runCanary(
      this.settings,
      {
        service: this.flags.service,
        stable: this.flags.stable,
        canary: this.flags.canary,
        route: this.flags.route,
        pool: this.flags.pool,
        steps: this.flags.steps,
        intervalMs: this.flags.interval,
        stepDurationMs: this.flags['step-duration'],
        warmupMs: this.flags.warmup,
        analysisFile: this.flags.analysis,
        minSamples: this.flags['min-samples'],
        maxInconclusive: this.flags['max-inconclusive'],
        killFlag: this.flags['kill-flag'],
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
