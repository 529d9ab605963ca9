import { z } from 'zod'

/**
 * The documented event kinds, namespaced `area.what`. Each has a data schema with the key
 * fields required and everything else let through (later capabilities refine them), and a
 * one-line summary for human output. Kinds under `x.` are free for users' own tools.
 */
export interface EventKind {
  kind: string
  description: string
  data: z.ZodType<Record<string, unknown>>
  summary(data: Record<string, unknown>): string
}

export const EXTENSION_NAMESPACE = 'x'

const text = z.string().min(1)
const verdict = z.enum(['pass', 'fail', 'inconclusive'])
const percent = z.number().min(0).max(100)

function kind<S extends z.ZodType<Record<string, unknown>>>(
  name: string,
  description: string,
  data: S,
  summary: (data: z.infer<S>) => string,
): EventKind {
  return { kind: name, description, data, summary: (value) => summary(value as z.infer<S>) }
}

const optional = (label: string, value: unknown) => (value === undefined || value === null || value === '' ? '' : ` ${label}${String(value)}`)

export const eventKinds: readonly EventKind[] = [
  kind('note', 'A free-text note from a person or a CI step.', z.looseObject({ message: text }), (d) => d.message),

  kind(
    'deploy.started',
    'A rollout of a new version began.',
    z.looseObject({ version: text, strategy: z.string().optional(), from: z.string().optional() }),
    (d) => `rollout of ${d.version}${optional('by ', d.strategy)}${optional('from ', d.from)}`,
  ),
  kind(
    'deploy.step',
    'A rollout moved to its next step (traffic weight of the new version).',
    z.looseObject({ step: z.number().int().min(0), weight: percent }),
    (d) => `step ${d.step}: ${d.weight}% of traffic to the new version`,
  ),
  kind(
    'deploy.verdict',
    'The canary judge decided on a step: pass, fail or inconclusive.',
    z.looseObject({ verdict, reason: z.string().optional() }),
    (d) => `${d.verdict}${d.reason ? `: ${d.reason}` : ''}`,
  ),
  kind(
    'deploy.rollback',
    'A rollout was rolled back, automatically or by hand.',
    z.looseObject({ reason: text, to: z.string().optional() }),
    (d) => `rolled back${optional('to ', d.to)}: ${d.reason}`,
  ),

  kind(
    'flag.changed',
    'A feature flag was created, toggled, re-targeted or deleted.',
    z.looseObject({ flag: text, change: text, from: z.unknown().optional(), to: z.unknown().optional() }),
    (d) =>
      `${d.flag} ${d.change}${typeof d.environment === 'string' ? ` in ${d.environment}` : ''}` +
      `${d.to === undefined ? '' : `: ${JSON.stringify(d.from ?? null)} -> ${JSON.stringify(d.to)}`}` +
      `${typeof d.reason === 'string' ? ` (${d.reason})` : ''}`,
  ),

  kind(
    'gate.verdict',
    'The CI gate decided on a change: pass or fail, with the failed checks.',
    z.looseObject({ verdict: z.enum(['pass', 'fail']), failed: z.array(z.string()).optional() }),
    (d) => `${d.verdict}${d.failed?.length ? ` (${d.failed.join(', ')})` : ''}`,
  ),

  kind(
    'load.run',
    'A load test ran against the service.',
    z.looseObject({ scenario: text, requests: z.number().int().min(0).optional(), p99Ms: z.number().min(0).optional() }),
    (d) => `${d.scenario}${optional('', d.requests === undefined ? undefined : `${d.requests} requests`)}${optional('p99 ', d.p99Ms === undefined ? undefined : `${d.p99Ms}ms`)}`,
  ),
  kind(
    'profile.run',
    'A CPU profile was captured.',
    z.looseObject({ target: text, durationMs: z.number().min(0).optional(), top: z.string().optional() }),
    (d) => `${d.target}${optional('top: ', d.top)}`,
  ),

  kind(
    'incident.opened',
    'An incident was declared (its id goes in links.incident).',
    z.looseObject({
      title: text,
      severity: text,
      service: z.string().optional(),
      commander: z.string().optional(),
      impactStartedAt: z.iso.datetime({ offset: true }).optional(),
    }),
    (d) => `declared ${d.severity}: ${d.title}`,
  ),
  kind('incident.acknowledged', 'Someone took the incident.', z.looseObject({ by: z.string().optional() }), (d) => `acknowledged${optional('by ', d.by)}`),
  kind('incident.mitigated', 'The impact stopped.', z.looseObject({ summary: z.string().optional() }), (d) => `mitigated${d.summary ? `: ${d.summary}` : ''}`),
  kind('incident.resolved', 'The cause was fixed.', z.looseObject({ summary: z.string().optional() }), (d) => `resolved${d.summary ? `: ${d.summary}` : ''}`),
  kind('incident.cancelled', 'The incident was a false alarm.', z.looseObject({ reason: z.string().optional() }), (d) => `cancelled${d.reason ? `: ${d.reason}` : ''}`),
  kind('incident.note', 'A note on the incident timeline.', z.looseObject({ message: text }), (d) => `note: ${d.message}`),
  kind(
    'incident.role',
    'Someone took a role (commander, communications, scribe, ...).',
    z.looseObject({ role: text, person: text }),
    (d) => `${d.person} is ${d.role}`,
  ),

  kind(
    'runbook.step',
    'A runbook step was run (status done, failed, timed-out, interrupted) or skipped.',
    z.looseObject({
      runbook: text,
      step: z.union([text, z.number().int().min(0)]),
      status: z.string().optional(),
      command: z.string().optional(),
      exitCode: z.number().int().nullable().optional(),
      outputTail: z.string().optional(),
    }),
    (d) => `runbook ${d.runbook} step ${d.step}${optional('', d.status)}${typeof d.exitCode === 'number' ? `, exit ${d.exitCode}` : ''}`,
  ),
]

const byKind = new Map(eventKinds.map((entry) => [entry.kind, entry]))

export const KIND_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9_-]*)*$/

export function findEventKind(name: string): EventKind | undefined {
  return byKind.get(name)
}

/**
 * The kind's wording of an event's data, whole (no links, not cut to a line): the one source of
 * it for the journal's listing, the incident timeline and the post-mortem. Undefined for kinds
 * without one (x.*) and for data the kind's schema refuses.
 */
export function summarizeEventData(kind: string, data: Record<string, unknown>): string | undefined {
  const entry = byKind.get(kind)
  return entry && entry.data.safeParse(data).success ? entry.summary(data) : undefined
}

/** Known kinds and `x.*`: what append accepts. */
export function isAcceptedKind(name: string): boolean {
  return byKind.has(name) || (name.startsWith(`${EXTENSION_NAMESPACE}.`) && KIND_PATTERN.test(name))
}

export function kindNamespaces(): string[] {
  return [...new Set(eventKinds.map((entry) => entry.kind.split('.')[0]!)), EXTENSION_NAMESPACE]
}
