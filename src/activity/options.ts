import { parseDuration, parsePercent, type Settings } from '../core/index.js'
import type { ActivityOptions } from './collect.js'

/** Flag values, already parsed at the edge (ms, fractions); each overrides its config key. */
export interface ActivityFlagValues {
  idleInTransactionMs?: number | undefined
  longQueryMs?: number | undefined
  lockWaitMs?: number | undefined
  limit?: number | undefined
  metricsUrl?: string | undefined
  pgbouncerUrl?: string | undefined
}

/** Config section `activity` (+ service.url for the metrics) with the flags on top. */
export function activityOptions(settings: Pick<Settings, 'config'>, flags: ActivityFlagValues = {}): ActivityOptions {
  const { activity, service } = settings.config
  return {
    thresholds: {
      idleInTransactionMs: flags.idleInTransactionMs ?? parseDuration(activity.idleInTransaction, 'activity.idleInTransaction'),
      longQueryMs: flags.longQueryMs ?? parseDuration(activity.longQuery, 'activity.longQuery'),
      lockWaitMs: flags.lockWaitMs ?? parseDuration(activity.lockWait, 'activity.lockWait'),
      nearMaxConnections: parsePercent(activity.nearMaxConnections, 'activity.nearMaxConnections'),
    },
    limit: flags.limit ?? activity.limit,
    metricsUrl: flags.metricsUrl ?? activity.metricsUrl ?? (service.url ? `${service.url.replace(/\/+$/, '')}/metrics` : undefined),
    pgbouncerUrl: flags.pgbouncerUrl ?? activity.pgbouncerUrl,
  }
}

/** The --watch refresh interval from config, ms. */
export function watchInterval(settings: Pick<Settings, 'config'>): number {
  return parseDuration(settings.config.activity.interval, 'activity.interval')
}
