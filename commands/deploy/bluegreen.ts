import { Flags } from '@oclif/core'
import { durationFlag, OpsCommand } from '../../src/cli/index.js'
import { renderRun, runBlueGreen } from '../../src/deploy/index.js'
import { controlFlags } from '../router/status.js'
import { rolloutFlags } from './resume.js'

export default class DeployBlueGreen extends OpsCommand<typeof DeployBlueGreen> {
  static override summary =
    'Blue/green: check the preview (health, smoke scenario), switch all traffic at once, keep the old side for an instant rollback.'
  static override description = [
    'The preview must answer its health check (deploy.healthPath) and pass the --smoke load scenario’s thresholds before',
    'anything moves; then one atomic weight change sends all traffic to it. The old side stays ready for --keep, so that',
    'deploy rollback switches back at once; after that it is drained and released (a release hook can stop it).',
    'Exit 0 switched and released, 1 a check failed or it was rolled back, 2 bad input, 130 Ctrl-C (resume picks it up).',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> deploy bluegreen --service api --active blue --preview green',
    '<%= config.bin %> deploy bluegreen --service api --active http://10.0.0.11:3000 --preview http://10.0.0.12:3000 --smoke smoke.yaml --keep 10m',
    "<%= config.bin %> deploy bluegreen --service api --active blue --preview green --hook 'release=systemctl stop api-blue'",
  ]
  static override flags = {
    service: Flags.string({ description: 'The service the rollout is recorded under [default: from config key deploy.service].' }),
    active: Flags.string({ description: 'The side taking traffic now: a backend name or its URL [default: deploy.bluegreen.active].' }),
    preview: Flags.string({ description: 'The new side: a backend name or its URL [default: deploy.bluegreen.preview].' }),
    smoke: Flags.string({ description: 'A load scenario with thresholds run against the preview [default: deploy.bluegreen.smoke].' }),
    keep: durationFlag({ description: 'How long the old side is kept after the switch [default: from config key deploy.bluegreen.keep].' }),
    hook: rolloutFlags.hook,
    pool: rolloutFlags.pool,
    version: rolloutFlags.version,
    ...controlFlags,
  }

  async run() {
    const run = await runBlueGreen(
      this.settings,
      {
        service: this.flags.service,
        active: this.flags.active,
        preview: this.flags.preview,
        smoke: this.flags.smoke,
        keepMs: this.flags.keep,
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
