import { z } from 'zod'

const defaults = {
  idleInTransaction: '1m',
  longQuery: '1m',
  lockWait: '1s',
  nearMaxConnections: '80%',
  interval: '2s',
  limit: 10,
}

export const activitySection = z
  .strictObject({
    idleInTransaction: z
      .string()
      .default(defaults.idleInTransaction)
      .describe('A session idle in a transaction for longer than this is a finding, e.g. 1m.'),
    longQuery: z.string().default(defaults.longQuery).describe('A statement running for longer than this is a finding, e.g. 1m.'),
    lockWait: z
      .string()
      .default(defaults.lockWait)
      .describe("A lock chain whose longest wait exceeds this is a finding (PostgreSQL's deadlock_timeout default)."),
    nearMaxConnections: z
      .string()
      .default(defaults.nearMaxConnections)
      .describe('Share of the usable connection slots (max_connections minus reserved) that is a finding, e.g. 80%.'),
    interval: z.string().default(defaults.interval).describe('Refresh interval of opsctl db activity --watch.'),
    limit: z.number().int().min(1).max(1000).default(defaults.limit).describe('Rows in each list: oldest transactions, top statements.'),
    metricsUrl: z
      .url()
      .optional()
      .describe("The service's Prometheus /metrics with its pg pool gauges; default: service.url + /metrics when service.url is set."),
    pgbouncerUrl: z
      .string()
      .optional()
      .describe('PgBouncer admin console, e.g. postgres://pgbouncer@127.0.0.1:6432/pgbouncer, for SHOW POOLS.'),
  })
  .default(defaults)
  .describe('Database activity: connections, pool pressure and lock chains (opsctl db activity).')
