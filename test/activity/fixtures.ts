import type { ConnectionSummary, RawLock, Session } from '../../src/activity/model.js'
import { summarizeConnections } from '../../src/activity/connections.js'

/** A visible client session; ages in ms. */
export function session(pid: number, overrides: Partial<Session> = {}): Session {
  return {
    pid,
    database: 'shop',
    user: 'app',
    application: 'reference-service',
    client: '127.0.0.1',
    state: 'idle',
    visible: true,
    transactionStartedAt: null,
    queryStartedAt: null,
    stateChangedAt: null,
    transactionAgeMs: null,
    queryAgeMs: null,
    stateAgeMs: 1000,
    waitEvent: null,
    query: 'SELECT $1',
    blockedBy: [],
    ...overrides,
  }
}

let key = 0
/** A pg_locks row; `on` names the locked object so that holder and waiter share it. */
export function lock(pid: number, overrides: Partial<RawLock> & { on?: string } = {}): RawLock {
  const { on, ...rest } = overrides
  return {
    pid,
    locktype: 'relation',
    mode: 'AccessShareLock',
    granted: true,
    relation: 'items',
    page: null,
    tuple: null,
    transactionId: null,
    virtualXid: null,
    objectKey: on ?? `object-${key++}`,
    waitStart: null,
    ...rest,
  }
}

export function connectionsOf(sessions: Session[], maxConnections = 100, reserved = 3): ConnectionSummary {
  return summarizeConnections(sessions, { maxConnections, reserved })
}
