import { z } from 'zod'
import { defineEvents, eventFields } from '../journal/index.js'

const { text, percent, optional } = eventFields

const strategy = z.enum(['canary', 'strangler', 'bluegreen', 'rolling'])
const status = z.enum(['pass', 'fail', 'inconclusive'])

/**
 * What a rollout writes to the journal; the post-mortem reads deploys and rollbacks as changes.
 * Every event of a rollout carries its id in `links.rollout` and the service as its subject.
 */
export const deployEvents = defineEvents('deploy', {
  started: {
    description: 'A rollout of a new version began.',
    data: z.looseObject({ version: text, strategy: z.string().optional(), from: z.string().optional() }),
    summary: (d) => `rollout of ${d.version}${optional('by ', d.strategy)}${optional('from ', d.from)}`,
  },
  step: {
    description: 'A rollout moved to its next step (traffic weight of the new version).',
    data: z.looseObject({ step: z.number().int().min(0), weight: percent }),
    summary: (d) => `step ${d.step}: ${d.weight}% of traffic to the new version`,
  },
  verdict: {
    description: 'The canary judge decided on a step: pass, fail or inconclusive.',
    data: z.looseObject({ verdict: status, reason: z.string().optional() }),
    summary: (d) => `${d.verdict}${d.reason ? `: ${d.reason}` : ''}`,
  },
  rollback: {
    description: 'A rollout was rolled back, automatically or by hand.',
    data: z.looseObject({ reason: text, to: z.string().optional() }),
    summary: (d) => `rolled back${optional('to ', d.to)}: ${d.reason}`,
  },
  paused: {
    description: 'A rollout stopped moving: by hand, awaiting promotion, too many inconclusive windows, or its controller stopped.',
    data: z.looseObject({ reason: text, pause: z.enum(['manual', 'promotion', 'inconclusive', 'controller']) }),
    summary: (d) => `paused: ${d.reason}`,
  },
  resumed: {
    description: 'A paused rollout moved on again, or a new controller took over a rollout whose controller died.',
    data: z.looseObject({ reason: text }),
    summary: (d) => `resumed: ${d.reason}`,
  },
  promoted: {
    description: 'A canary (or strangler-fig route) took all of the traffic: the rollout succeeded.',
    data: z.looseObject({ weight: percent }),
    summary: (d) => `promoted: ${d.weight}% of traffic to the new version`,
  },
  aborted: {
    description: 'A rollout was stopped by hand and its traffic returned to the old version.',
    data: z.looseObject({ reason: text }),
    summary: (d) => `aborted: ${d.reason}`,
  },
  failed: {
    description: 'A rollout failed before any traffic moved (a pre-rollout hook, or a blue/green preview check).',
    data: z.looseObject({ reason: text }),
    summary: (d) => `failed before traffic moved: ${d.reason}`,
  },
  action: {
    description: 'Someone asked a rollout to promote, pause, resume, abort or roll back (from any terminal).',
    data: z.looseObject({ action: z.enum(['promote', 'pause', 'resume', 'abort', 'rollback']), reason: z.string().optional() }),
    summary: (d) => `${d.action} asked${d.reason ? `: ${d.reason}` : ''}`,
  },
  hook: {
    description: 'A rollout hook (command or URL) ran; a failing hook fails its step.',
    data: z.looseObject({ phase: text, hook: text, status: z.enum(['passed', 'failed', 'timed-out']) }),
    summary: (d) => `${d.phase} hook ${d.status}: ${d.hook}`,
  },
  switched: {
    description: 'Blue/green: all traffic switched at once from one side to the other.',
    data: z.looseObject({ from: text, to: text }),
    summary: (d) => `switched all traffic from ${d.from} to ${d.to}`,
  },
  released: {
    description: 'Blue/green: the old side was released after its keep period (drained; a hook may stop it).',
    data: z.looseObject({ backend: text }),
    summary: (d) => `released ${d.backend}`,
  },
  'instance-replaced': {
    description: 'Rolling: an instance was drained, replaced by the command, healthy again and judged against the old ones.',
    data: z.looseObject({ instance: text, verdict: status }),
    summary: (d) => `replaced ${d.instance} (${d.verdict})`,
  },
  halted: {
    description: 'Rolling: the rollout stopped at a failing instance; instances not yet replaced were left untouched.',
    data: z.looseObject({ reason: text, instance: z.string().optional() }),
    summary: (d) => `halted${optional('at ', d.instance)}: ${d.reason}`,
  },
  completed: {
    description: 'A blue/green or rolling rollout finished.',
    data: z.looseObject({ strategy }),
    summary: (d) => `${d.strategy} rollout completed`,
  },
})
