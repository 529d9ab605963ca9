/**
 * `db activity cancel PID` and `terminate PID`: look the session up, check that this role may
 * signal it (the server's own rule, so the refusal comes with a reason instead of a bare
 * "permission denied"), show it, ask, send, and record who did what in the journal.
 */
import pg from 'pg'
import { ExitCode, OpsError, badInput, environmentError, redactText, type Settings } from '../core/index.js'
import { withDatabase } from '../db/index.js'
import { recordEvent } from '../journal/index.js'
import { QueryIdentifier, loadQueryParser } from '../nplusone/index.js'
import type { ActivityTarget } from './collect.js'
import { activityEvents } from './events.js'
import { SIGNAL_TARGET_SQL } from './queries.js'

export type SignalAction = 'cancel' | 'terminate'

export interface SignalTargetSession {
  pid: number
  role: string | null
  application: string
  database: string | null
  /** null when this role may not see it. */
  state: string | null
  backendType: string | null
  query: string | null
}

/** What the server tells about the target and about us, as the permission rule needs it. */
export interface SignalPrivileges {
  role: string
  superuser: boolean
  /** The target runs as a role (background processes do not). */
  targetHasRole: boolean
  targetSuperuser: boolean
  memberOfTarget: boolean
  signalBackend: boolean
}

export type SignalPermission = { allowed: true } | { allowed: false; reason: string; hint: string }

/**
 * PostgreSQL's rule for pg_cancel_backend and pg_terminate_backend: superusers may signal anyone;
 * sessions of superusers and processes without a role only superusers; others, a role that has
 * the privileges of the session's role or of pg_signal_backend. Pure.
 */
export function signalPermission(target: Pick<SignalTargetSession, 'pid' | 'role'>, privileges: SignalPrivileges): SignalPermission {
  if (privileges.superuser) return { allowed: true }
  if (!privileges.targetHasRole || privileges.targetSuperuser) {
    return {
      allowed: false,
      reason: `session ${target.pid} ${privileges.targetHasRole ? `runs as superuser ${target.role ?? '?'}` : 'is a background process'}, and only a superuser may signal it; role ${privileges.role} is not one`,
      hint: 'Connect as a superuser (--database-url), or ask the database administrator.',
    }
  }
  if (privileges.memberOfTarget || privileges.signalBackend) return { allowed: true }
  return {
    allowed: false,
    reason:
      `session ${target.pid} belongs to role ${target.role ?? '?'}; role ${privileges.role} is not a superuser, ` +
      `not a member of ${target.role ?? 'that role'}, and not a member of pg_signal_backend`,
    hint: `Connect as ${target.role ?? 'its role'}, or have an administrator run GRANT pg_signal_backend TO ${privileges.role};`,
  }
}

export interface SignalRequest {
  action: SignalAction
  pid: number
  /** Skip the confirmation (the user has read what will be signalled). */
  yes: boolean
  /** How long terminate waits for the session to go (default 5 s). */
  waitMs?: number
}

export interface SignalPlan {
  action: SignalAction
  database: string
  target: SignalTargetSession
}

export interface SignalResult {
  action: SignalAction
  at: string
  target: SignalTargetSession
  /** The server found the backend and sent the signal. */
  signalled: boolean
  /** terminate: the session was gone within waitedMs. */
  ended?: boolean
  waitedMs?: number
  eventId?: string
  journalError?: string
}

export interface SignalIO {
  show(plan: SignalPlan): void
  /** Asks on a terminal; absent without one. */
  confirm?: (question: string) => Promise<boolean>
}

interface TargetRow {
  pid: number
  usename: string | null
  application_name: string | null
  datname: string | null
  state: string | null
  backend_type: string | null
  query: string | null
  has_role: boolean
  target_superuser: boolean
  superuser: boolean
  member_of_target: boolean
  signal_backend: boolean
  role: string
}

/** A pid as typed: digits only (bad input otherwise, exit 2). */
export function parsePid(text: string): number {
  const pid = /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 2 ** 31 - 1) {
    throw badInput(`Invalid pid "${text}": a session's pid is a positive integer`, 'opsctl db activity lists the sessions and their pids.')
  }
  return pid
}

/** The command's entry: the configured database (never the embedded one, which has no sessions to signal). */
export async function signalConfiguredSession(
  settings: Settings,
  request: SignalRequest,
  io: SignalIO,
  log?: (message: string) => void,
): Promise<SignalResult> {
  if (!settings.config.database.url) throw embeddedRefusal(request.action)
  return withDatabase(settings, (database) => signalSession(settings, database, request, io), log ? { log } : {})
}

function embeddedRefusal(action: SignalAction): OpsError {
  return environmentError(
    `Cannot ${action} sessions of the embedded PGlite database: it runs one backend, with no other session to signal`,
    'Point DATABASE_URL (or --database-url) at the PostgreSQL server whose session you mean.',
  )
}

export async function signalSession(
  settings: Settings,
  database: ActivityTarget,
  request: SignalRequest,
  io: SignalIO,
): Promise<SignalResult> {
  if (!Number.isSafeInteger(request.pid) || request.pid <= 0) {
    throw badInput(`Invalid pid ${request.pid}`, 'Give the pid that opsctl db activity shows.')
  }
  if (database.kind === 'embedded') throw embeddedRefusal(request.action)
  await loadQueryParser()
  const client = new pg.Client({ connectionString: database.url, application_name: 'opsctl db activity' })
  client.on('error', () => {})
  await client.connect()
  try {
    const row = (await client.query<TargetRow>(SIGNAL_TARGET_SQL, [request.pid])).rows[0]
    if (!row) {
      throw badInput(
        `No session with pid ${request.pid} on ${database.description}`,
        'opsctl db activity lists the sessions and their pids.',
      )
    }
    const visibleQuery = row.query === null || row.query === '<insufficient privilege>' ? null : row.query
    const target: SignalTargetSession = {
      pid: row.pid,
      role: row.usename,
      application: row.application_name ?? '',
      database: row.datname,
      state: row.state,
      backendType: row.backend_type,
      query: visibleQuery === null ? null : new QueryIdentifier().identify(visibleQuery).sql,
    }
    const permission = signalPermission(target, {
      role: row.role,
      superuser: row.superuser,
      targetHasRole: row.has_role,
      targetSuperuser: row.target_superuser,
      memberOfTarget: row.member_of_target,
      signalBackend: row.signal_backend,
    })
    if (!permission.allowed) {
      throw new OpsError(`Not allowed to ${request.action} session ${request.pid}: ${permission.reason}`, {
        exit: ExitCode.Environment,
        hint: permission.hint,
      })
    }
    if (request.action === 'cancel' && target.state !== null && target.state !== 'active') {
      throw badInput(
        `Session ${request.pid} is ${target.state}: it runs no statement, so a cancel would do nothing`,
        `opsctl db activity terminate ${request.pid} ends the session${target.state.startsWith('idle in transaction') ? ' and rolls back its transaction' : ''}.`,
      )
    }

    const plan: SignalPlan = { action: request.action, database: database.description, target }
    io.show(plan)
    if (!request.yes) {
      if (!io.confirm) {
        throw new OpsError(
          `Not sent: ${request.action} of session ${request.pid} needs a confirmation, and there is no terminal to ask on`,
          {
            exit: ExitCode.BadInput,
            hint: `Run it from a terminal and answer y, or add --yes once you have checked the session (opsctl db activity).`,
          },
        )
      }
      const question =
        request.action === 'cancel' ? `Cancel the statement of session ${request.pid}? [y/N] ` : `Terminate session ${request.pid}? [y/N] `
      if (!(await io.confirm(question)))
        throw new OpsError('Not sent: declined', { exit: ExitCode.CheckFailed, hint: 'Nothing was signalled or recorded.' })
    }

    const result = await send(client, request, target)
    return await record(settings, result)
  } catch (error) {
    if ((error as { code?: string }).code === '42501') {
      throw new OpsError(`Not allowed to ${request.action} session ${request.pid}: ${redactText((error as Error).message)}`, {
        exit: ExitCode.Environment,
        hint: "Connect as the session's role or a superuser, or GRANT pg_signal_backend to this role.",
        cause: error as Error,
      })
    }
    throw error
  } finally {
    await client.end().catch(() => {})
  }
}

async function send(client: pg.Client, request: SignalRequest, target: SignalTargetSession): Promise<SignalResult> {
  const at = new Date().toISOString()
  const fn = request.action === 'cancel' ? 'pg_cancel_backend' : 'pg_terminate_backend'
  const signalled = (await client.query<{ ok: boolean }>(`SELECT ${fn}($1) AS ok`, [request.pid])).rows[0]?.ok === true
  if (request.action === 'cancel' || !signalled) return { action: request.action, at, target, signalled }
  // A terminated backend needs a moment to roll back and exit; say whether it did.
  const waitMs = request.waitMs ?? 5000
  const started = performance.now()
  let ended = false
  while (performance.now() - started < waitMs) {
    ended = (await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [request.pid])).rowCount === 0
    if (ended) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { action: request.action, at, target, signalled, ended, waitedMs: Math.round(performance.now() - started) }
}

/** The signal was sent: a journal that cannot be written is reported, not thrown (the action cannot be undone). */
async function record(settings: Settings, result: SignalResult): Promise<SignalResult> {
  const { target } = result
  const data = {
    pid: target.pid,
    signalled: result.signalled,
    ...(target.role ? { role: target.role } : {}),
    ...(target.application ? { application: target.application } : {}),
    ...(target.database ? { database: target.database } : {}),
    ...(target.state ? { state: target.state } : {}),
    ...(target.query ? { query: target.query } : {}),
    ...(result.ended !== undefined ? { ended: result.ended } : {}),
  }
  const kind = result.action === 'cancel' ? activityEvents.cancel.kind : activityEvents.terminate.kind
  try {
    const event = await recordEvent(settings, { kind, subject: settings.config.service.name, data })
    return { ...result, eventId: event.id }
  } catch (error) {
    return { ...result, journalError: (error as Error).message }
  }
}
