/**
 * What SDKs report: yes/no counts per flag and environment, and which applications registered.
 * Kept in `.opsctl/flags/metrics.json` for `flags list` and `flags stale`. The server adds what
 * it received since the last write to what the file holds (read, add, rename), so a restart or
 * a second server loses nothing.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import type { Clock } from '../core/index.js'
import { writeFileAtomic } from './atomic-file.js'

const countsSchema = z.object({
  yes: z.number().int().min(0),
  no: z.number().int().min(0),
  variants: z.record(z.string(), z.number().int().min(0)).default({}),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
})

export type FlagCounts = z.infer<typeof countsSchema>

const applicationSchema = z.object({
  environment: z.string(),
  lastSeenAt: z.string(),
  sdkVersion: z.string().optional(),
  instances: z.array(z.string()).default([]),
})

export const flagMetricsSchema = z.object({
  version: z.literal(1),
  updatedAt: z.string(),
  /** flag -> environment -> counts */
  flags: z.record(z.string(), z.record(z.string(), countsSchema)).default({}),
  applications: z.record(z.string(), applicationSchema).default({}),
})

export type FlagMetrics = z.infer<typeof flagMetricsSchema>

/** The body of POST /api/client/metrics (and the frontend SDKs' equivalent). */
export const metricsBodySchema = z.looseObject({
  appName: z.string().min(1).max(200),
  instanceId: z.string().max(200).optional(),
  bucket: z.looseObject({
    start: z.string().optional(),
    stop: z.string().optional(),
    toggles: z.record(
      z.string(),
      z.looseObject({
        yes: z.number().int().min(0).default(0),
        no: z.number().int().min(0).default(0),
        variants: z.record(z.string(), z.number().int().min(0)).optional(),
      }),
    ),
  }),
})

export type MetricsBody = z.infer<typeof metricsBodySchema>

export const registerBodySchema = z.looseObject({
  appName: z.string().min(1).max(200),
  instanceId: z.string().max(200).optional(),
  sdkVersion: z.string().max(200).optional(),
})

export type RegisterBody = z.infer<typeof registerBodySchema>

export function emptyMetrics(now: Date): FlagMetrics {
  return { version: 1, updatedAt: now.toISOString(), flags: {}, applications: {} }
}

export function readFlagMetrics(file: string): FlagMetrics | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const parsed = flagMetricsSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined // a damaged file is as good as none: the counts start again
  }
}

const MAX_INSTANCES = 20

/** Pure: `into` plus a bucket seen in an environment at `now`. */
export function addBucket(into: FlagMetrics, environment: string, body: MetricsBody, now: Date): void {
  const at = now.toISOString()
  for (const [flag, counts] of Object.entries(body.bucket.toggles)) {
    if (counts.yes + counts.no === 0) continue
    const byEnvironment = (into.flags[flag] ??= {})
    const current = (byEnvironment[environment] ??= { yes: 0, no: 0, variants: {}, firstSeenAt: at, lastSeenAt: at })
    current.yes += counts.yes
    current.no += counts.no
    current.lastSeenAt = at
    for (const [variant, count] of Object.entries(counts.variants ?? {}))
      current.variants[variant] = (current.variants[variant] ?? 0) + count
  }
  noteApplication(into, environment, body, now)
  into.updatedAt = at
}

/** Pure: an application seen (registered or reporting) in an environment. */
export function noteApplication(
  into: FlagMetrics,
  environment: string,
  body: { appName: string; instanceId?: string | undefined; sdkVersion?: string | undefined },
  now: Date,
): void {
  const application = (into.applications[body.appName] ??= { environment, lastSeenAt: now.toISOString(), instances: [] })
  application.environment = environment
  application.lastSeenAt = now.toISOString()
  if (body.sdkVersion) application.sdkVersion = body.sdkVersion
  if (body.instanceId && !application.instances.includes(body.instanceId)) {
    application.instances = [...application.instances, body.instanceId].slice(-MAX_INSTANCES)
  }
  into.updatedAt = now.toISOString()
}

/** Pure: two sets of metrics added up (the file's and this server's unsaved ones). */
export function mergeMetrics(base: FlagMetrics, delta: FlagMetrics): FlagMetrics {
  const out = structuredClone(base)
  for (const [flag, environments] of Object.entries(delta.flags)) {
    for (const [environment, counts] of Object.entries(environments)) {
      const byEnvironment = (out.flags[flag] ??= {})
      const current = byEnvironment[environment]
      if (!current) {
        byEnvironment[environment] = structuredClone(counts)
        continue
      }
      current.yes += counts.yes
      current.no += counts.no
      current.firstSeenAt = current.firstSeenAt < counts.firstSeenAt ? current.firstSeenAt : counts.firstSeenAt
      current.lastSeenAt = current.lastSeenAt > counts.lastSeenAt ? current.lastSeenAt : counts.lastSeenAt
      for (const [variant, count] of Object.entries(counts.variants)) current.variants[variant] = (current.variants[variant] ?? 0) + count
    }
  }
  for (const [name, application] of Object.entries(delta.applications)) {
    const current = out.applications[name]
    out.applications[name] =
      current && current.lastSeenAt > application.lastSeenAt
        ? current
        : { ...application, instances: [...new Set([...(current?.instances ?? []), ...application.instances])].slice(-MAX_INSTANCES) }
  }
  out.updatedAt = base.updatedAt > delta.updatedAt ? base.updatedAt : delta.updatedAt
  return out
}

/** Totals of one flag over its environments. */
export function flagTotals(metrics: FlagMetrics | undefined, flag: string): { yes: number; no: number; lastSeenAt?: string } | undefined {
  const environments = metrics?.flags[flag]
  if (!environments) return undefined
  let yes = 0
  let no = 0
  let lastSeenAt: string | undefined
  for (const counts of Object.values(environments)) {
    yes += counts.yes
    no += counts.no
    if (!lastSeenAt || counts.lastSeenAt > lastSeenAt) lastSeenAt = counts.lastSeenAt
  }
  return { yes, no, ...(lastSeenAt ? { lastSeenAt } : {}) }
}

/**
 * The server's side: counts accumulate in memory and are written at most once per interval,
 * and on close. A failed write keeps them for the next one.
 */
export class FlagMetricsRecorder {
  private pending: FlagMetrics
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly file: string | undefined,
    private readonly clock: Clock,
    private readonly intervalMs = 1000,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    this.pending = emptyMetrics(clock.now())
  }

  addBucket(environment: string, body: MetricsBody): void {
    addBucket(this.pending, environment, body, this.clock.now())
    this.schedule()
  }

  register(environment: string, body: RegisterBody): void {
    noteApplication(this.pending, environment, body, this.clock.now())
    this.schedule()
  }

  /** What the file holds plus what is not written yet. */
  snapshot(): FlagMetrics {
    const saved = this.file ? readFlagMetrics(this.file) : undefined
    return mergeMetrics(saved ?? emptyMetrics(this.clock.now()), this.pending)
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.writing = this.writing.then(() => this.write())
    return this.writing
  }

  private schedule(): void {
    if (!this.file || this.timer) return
    this.timer = setTimeout(() => void this.flush(), this.intervalMs)
    this.timer.unref()
  }

  private async write(): Promise<void> {
    if (!this.file) return
    const delta = this.pending
    if (Object.keys(delta.flags).length === 0 && Object.keys(delta.applications).length === 0) return
    this.pending = emptyMetrics(this.clock.now())
    try {
      const saved = readFlagMetrics(this.file) ?? emptyMetrics(this.clock.now())
      await writeFileAtomic(this.file, `${JSON.stringify(mergeMetrics(saved, delta), null, 2)}\n`)
    } catch (error) {
      this.pending = mergeMetrics(delta, this.pending)
      this.onError(error as Error)
    }
  }
}
