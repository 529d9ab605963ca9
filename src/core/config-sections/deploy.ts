import { z } from 'zod'

/**
 * The `deploy:` section: progressive delivery (docs/deploy.md). Every key is also a flag of the
 * deploy commands (flags win). Durations stay text here ("30s") and are parsed where they are
 * read, so that a wrong one names its key.
 */
const defaults = {
  steps: ['5', '25', '50', '100'],
  interval: '30s',
  warmup: '0s',
  minSamples: 100,
  maxInconclusive: 3,
  drainTimeout: '30s',
  hookTimeout: '60s',
  metricsPath: '/metrics',
  healthPath: '/healthz',
  healthTimeout: '60s',
  keep: '10m',
  maxUnavailable: 1,
  commandTimeout: '5m',
}

const durationText = z.string().regex(/^\s*\d+(\.\d+)?\s*(us|µs|ms|s|m|h)?\s*$/, 'expected a duration such as 250ms, 30s or 10m')
const stepText = z
  .union([z.number().int(), z.string()])
  .transform((value) => String(value).trim())
  .pipe(z.string().regex(/^\d{1,3}%?(:(promote|pause|\d+(\.\d+)?(ms|s|m|h)?))?$/, 'expected a step such as 25, 25:2m or 25:promote'))
const hookList = z.array(z.string().min(1)).default([])

const hooks = z
  .strictObject({
    preRollout: hookList.describe('Before any traffic moves; a failing one fails the rollout.'),
    step: hookList.describe('After each step’s weights are set; a failing one rolls back.'),
    rollback: hookList.describe('On rollback or abort (reported, never blocking the rollback).'),
    promoted: hookList.describe('After promotion (canary at 100%, blue/green switched).'),
    release: hookList.describe('Blue/green: when the old side is released after the keep period (e.g. stop it).'),
  })
  .default({ preRollout: [], step: [], rollback: [], promoted: [], release: [] })
  .describe('Commands (run by sh -c, OPSCTL_* variables set) or http(s) URLs (POSTed the rollout as JSON, 2xx passes).')

export const deploySection = z
  .strictObject({
    service: z.string().optional().describe('The service name rollouts are recorded under (--service).'),
    stable: z.string().optional().describe('Canary: the current version, as a URL or a backend name of the router (--stable).'),
    canary: z.string().optional().describe('Canary: the new version, as a URL or a backend name (--canary).'),
    route: z.string().optional().describe('Strangler fig: the path prefix whose pool moves to the new service (--route).'),
    pool: z.string().optional().describe('The pool to act in when the backends are in several (--pool).'),
    steps: z
      .union([z.string().transform((text) => text.split(',').map((item) => item.trim())), z.array(stepText)])
      .default(defaults.steps)
      .describe('Canary weights in percent, each optionally held for a time or until promoted: [5, 25:promote, 50:2m, 100].'),
    interval: durationText.default(defaults.interval).describe('Analysis interval: every window is judged, canary against stable.'),
    stepDuration: durationText.optional().describe('How long a step holds its weight (default: one interval).'),
    warmup: durationText
      .default(defaults.warmup)
      .describe('After each weight change, how long before the analysis window opens (new connections, cold code paths).'),
    analysis: z.string().optional().describe('The analysis file (metrics, thresholds, synthetic load), relative to opsctl.yaml.'),
    minSamples: z
      .number()
      .int()
      .min(1)
      .default(defaults.minSamples)
      .describe('Fewest requests (and latency samples) per side for a verdict.'),
    maxInconclusive: z
      .number()
      .int()
      .min(1)
      .default(defaults.maxInconclusive)
      .describe('Inconclusive windows in a row that pause the rollout.'),
    killFlag: z.string().optional().describe('A feature flag turned off in the same rollback (flags.yaml or Unleash).'),
    drainTimeout: durationText.default(defaults.drainTimeout).describe('How long a rollback waits for the canary’s in-flight requests.'),
    hookTimeout: durationText.default(defaults.hookTimeout).describe('A hook still running after this long fails (and is killed).'),
    metricsPath: z.string().startsWith('/').default(defaults.metricsPath).describe('Path of the backends’ Prometheus metrics.'),
    healthPath: z
      .string()
      .startsWith('/')
      .default(defaults.healthPath)
      .describe('Path of the backends’ health check (blue/green, rolling).'),
    healthTimeout: durationText.default(defaults.healthTimeout).describe('How long a preview or replaced instance may take to be healthy.'),
    hooks,
    bluegreen: z
      .strictObject({
        active: z.string().optional().describe('The side taking traffic now (--active).'),
        preview: z.string().optional().describe('The new side, checked before the switch (--preview).'),
        smoke: z.string().optional().describe('A load scenario with thresholds run against the preview (--smoke).'),
        keep: durationText.default(defaults.keep).describe('How long the old side is kept after the switch, for an instant rollback.'),
      })
      .default({ keep: defaults.keep })
      .describe('Blue/green: checks on the preview, an atomic switch, the old side kept for a while.'),
    rolling: z
      .strictObject({
        instances: z.array(z.string()).default([]).describe('The instances to replace, as URLs or backend names (--instances).'),
        command: z.string().optional().describe('The command that replaces one instance; {instance}, {name}, {address} are filled in.'),
        maxUnavailable: z.number().int().min(1).default(defaults.maxUnavailable).describe('Instances replaced at a time.'),
        commandTimeout: durationText.default(defaults.commandTimeout).describe('A replace command still running after this long fails.'),
      })
      .default({ instances: [], maxUnavailable: defaults.maxUnavailable, commandTimeout: defaults.commandTimeout })
      .describe('Rolling: one instance (or maxUnavailable) at a time, judged against those not yet replaced.'),
  })
  .default({
    steps: defaults.steps,
    interval: defaults.interval,
    warmup: defaults.warmup,
    minSamples: defaults.minSamples,
    maxInconclusive: defaults.maxInconclusive,
    drainTimeout: defaults.drainTimeout,
    hookTimeout: defaults.hookTimeout,
    metricsPath: defaults.metricsPath,
    healthPath: defaults.healthPath,
    healthTimeout: defaults.healthTimeout,
    hooks: { preRollout: [], step: [], rollback: [], promoted: [], release: [] },
    bluegreen: { keep: defaults.keep },
    rolling: { instances: [], maxUnavailable: defaults.maxUnavailable, commandTimeout: defaults.commandTimeout },
  })
  .describe('Progressive delivery: canary with a statistical judge, blue/green, rolling, strangler fig.')
