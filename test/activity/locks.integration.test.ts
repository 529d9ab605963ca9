/**
 * `opsctl db activity` against the real PostgreSQL: sessions holding and waiting for row locks are
 * made with separate pg clients in this process; the snapshot is taken in-process and through the
 * CLI, and cancel/terminate run as a user runs them.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { takeActivitySnapshot, type ActivityOptions } from '../../src/activity/collect.js'
import type { ActivitySnapshot, LockNode } from '../../src/activity/model.js'
import { runCli } from '../helpers/cli.js'
import { SERVER_URL, createTestDatabase, isServerReachable, type TestDatabase } from '../helpers/database.js'
import { requireOrSkip } from '../helpers/requirements.js'
import { makeTempDir } from '../helpers/temp.js'

const serverAvailable = requireOrSkip(await isServerReachable(), 'no PostgreSQL server reachable for the db activity tests')
const role = `opsctl_activity_nobody_${randomBytes(3).toString('hex')}`
const otherRole = `${role}_b`

/** Each CLI run starts opsctl from the TypeScript sources: seconds apiece on a busy two-core machine. */
const SLOW = { timeout: 300_000 }

const OPTIONS: ActivityOptions = {
  thresholds: { idleInTransactionMs: 300, longQueryMs: 60_000, lockWaitMs: 200, nearMaxConnections: 0.8 },
  limit: 10,
}

let db: TestDatabase
let admin: pg.Client
let cwd: string
const clients: pg.Client[] = []

async function session(applicationName: string, url = db.url): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName })
  client.on('error', () => {})
  await client.connect()
  clients.push(client)
  return client
}

async function pidOf(client: pg.Client): Promise<number> {
  return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
}

/** Until `count` sessions of the test database wait for a lock. */
async function waitForLockWaiters(count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    if (rows[0]!.n >= count) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`fewer than ${count} sessions wait for a lock`)
}

const target = () => ({ url: db.url, kind: 'server' as const, description: 'the test database' })
const opsctl = (args: string[], url = db.url) => runCli(args, { cwd, env: { DATABASE_URL: url, CI: '1' } })

function find(node: LockNode, pid: number): LockNode | undefined {
  if (node.pid === pid) return node
  for (const child of node.children) {
    const found = find(child, pid)
    if (found) return found
  }
  return undefined
}

describe.runIf(serverAvailable)('db activity on PostgreSQL', SLOW, () => {
  beforeAll(async () => {
    db = await createTestDatabase('activity')
    admin = await session('activity-test-admin')
    await admin.query('CREATE TABLE items (id int PRIMARY KEY, quantity int NOT NULL)')
    await admin.query('INSERT INTO items SELECT g, 0 FROM generate_series(1, 10) g')
    await admin.query(`CREATE ROLE ${role} LOGIN`)
    await admin.query(`CREATE ROLE ${otherRole} LOGIN`)
    await admin.query(`GRANT SELECT, UPDATE ON items TO ${role}`)
    cwd = makeTempDir('opsctl-activity-')
  })

  afterAll(async () => {
    for (const client of clients.splice(0)) await client.end().catch(() => {})
    await db?.drop()
    const cleanup = new pg.Client({ connectionString: SERVER_URL })
    await cleanup.connect()
    await cleanup.query(`DROP ROLE IF EXISTS ${role}`)
    await cleanup.query(`DROP ROLE IF EXISTS ${otherRole}`).finally(() => cleanup.end())
  })

  it('a row lock held by an active transaction: two sessions wait on it, a third waits on the second; cancelling the root frees the chain', async () => {
    const root = await session('lock-root')
    const second = await session('lock-second')
    const third = await session('lock-third')
    const fourth = await session('lock-fourth')
    const [rootPid, secondPid, thirdPid, fourthPid] = (await Promise.all([root, second, third, fourth].map(pidOf))) as [
      number,
      number,
      number,
      number,
    ]

    await root.query('BEGIN')
    await root.query('UPDATE items SET quantity = 1 WHERE id IN (1, 2)')
    const rootSleep = root.query('SELECT pg_sleep(600)').then(
      () => 'finished',
      (error: Error & { code?: string }) => error.code,
    )
    await second.query('BEGIN')
    await second.query('UPDATE items SET quantity = 2 WHERE id = 3')
    const secondWaits = second.query('UPDATE items SET quantity = 2 WHERE id = 1')
    const thirdWaits = third.query('UPDATE items SET quantity = 3 WHERE id = 2')
    await waitForLockWaiters(2)
    const fourthWaits = fourth.query("UPDATE items SET quantity = 4 WHERE id = 3 AND 'secret-value' <> ''")
    await waitForLockWaiters(3)
    // Handled now so that a failing assertion below leaves no unhandled rejection when the clients close.
    for (const pending of [secondWaits, thirdWaits, fourthWaits]) pending.catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 250))

    const snapshot = await takeActivitySnapshot(target(), OPTIONS)
    const tree = snapshot.lockTrees.find((candidate) => candidate.root.pid === rootPid)!
    expect(tree).toBeDefined()
    expect(tree.waiters).toBe(3)
    expect(tree.root).toMatchObject({ state: 'active', application: 'lock-root', query: 'SELECT pg_sleep($1)' })
    expect(tree.root.transactionAgeMs).toBeGreaterThanOrEqual(tree.root.queryAgeMs!)
    expect(tree.root.children.map((child) => child.pid).sort()).toEqual([secondPid, thirdPid].sort())
    const secondNode = find(tree.root, secondPid)!
    expect(secondNode.children.map((child) => child.pid)).toEqual([fourthPid])
    expect(secondNode.waiting).toMatchObject({ locktype: 'transactionid', mode: 'ShareLock', relation: 'items' })
    expect(secondNode.waiting!.target).toMatch(/^a row of items \(transaction \d+\)$/)
    expect(find(tree.root, thirdPid)!.waiting).toMatchObject({ mode: 'ShareLock', relation: 'items' })
    const fourthNode = find(tree.root, fourthPid)!
    expect(fourthNode.waiting).toMatchObject({ mode: 'ShareLock', relation: 'items' })
    expect(fourthNode.query).toBe('UPDATE items SET quantity = $1 WHERE id = $2 AND $3 <> $4')
    for (const node of [secondNode, fourthNode]) expect(node.waiting!.waitMs).toBeGreaterThan(200)
    expect(snapshot.findings.find((finding) => finding.kind === 'lock-chain')).toMatchObject({ pid: rootPid })
    expect(JSON.stringify(snapshot)).not.toContain('secret-value')

    // The same through the CLI, as JSON and as text.
    const json = opsctl(['db', 'activity', '--json', '--lock-wait', '100ms'])
    expect(json.status).toBe(0)
    const document = JSON.parse(json.stdout) as ActivitySnapshot
    expect(document.lockTrees.some((candidate) => candidate.root.pid === rootPid && candidate.waiters === 3)).toBe(true)
    // Text, and a finding of a --fail-on kind fails the run (the document stays on stdout).
    const text = opsctl(['db', 'activity', '--fail-on', 'lock-chain', '--lock-wait', '100ms'])
    expect(text.status).toBe(1)
    expect(text.stderr).toMatch(/Failed: lock-chain: session \d+ \(lock-root, role postgres\) blocks 3 sessions/)
    expect(text.stdout).toMatch(new RegExp(`${rootPid} · postgres · lock-root · active .* · blocks 3`))
    expect(text.stdout).toMatch(new RegExp(`[├└]─ ${secondPid} · postgres · lock-second · waits .* for ShareLock on a row of items`))
    expect(text.stdout).toMatch(new RegExp(`[│ ]  └─ ${fourthPid} · postgres · lock-fourth · waits .* for ShareLock on a row of items`))
    expect(text.stdout).not.toContain('secret-value')

    // Cancel the root: its statement fails, its transaction's locks go, the two waiters on it proceed.
    const cancel = opsctl(['db', 'activity', 'cancel', String(rootPid), '--yes'])
    expect(cancel.stderr).toBe('')
    expect(cancel.status).toBe(0)
    expect(cancel.stdout).toContain(`Cancelled the running statement of session ${rootPid} (role postgres, lock-root).`)
    expect(cancel.stdout).toMatch(/Recorded in the journal as db\.cancel \(\w+\)/)
    expect(await rootSleep).toBe('57014')
    await Promise.all([secondWaits, thirdWaits])
    await second.query('COMMIT')
    await fourthWaits
    await root.query('ROLLBACK')

    const journal = opsctl(['journal', '--json', '--kind', 'db'])
    const events = journal.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; actor: string; data: Record<string, unknown> })
    expect(events.at(-1)).toMatchObject({
      kind: 'db.cancel',
      data: { pid: rootPid, role: 'postgres', application: 'lock-root', state: 'active', query: 'SELECT pg_sleep($1)', signalled: true },
    })
    expect(events.at(-1)!.actor.length).toBeGreaterThan(0)
  })

  it('an idle-in-transaction session older than the threshold is a finding naming its application and age; terminate ends it', async () => {
    const leaky = await session('billing-worker')
    const pid = await pidOf(leaky)
    await leaky.query('BEGIN')
    await leaky.query("UPDATE items SET quantity = 9 WHERE id = 7 AND 'card-4242' <> ''")
    await new Promise((resolve) => setTimeout(resolve, 500))

    const snapshot = await takeActivitySnapshot(target(), OPTIONS)
    const finding = snapshot.findings.find((candidate) => candidate.kind === 'idle-in-transaction' && candidate.pid === pid)!
    expect(finding.message).toMatch(
      new RegExp(
        `^application billing-worker \\(role postgres, pid ${pid}\\) has been idle in a transaction for \\d+ms; last statement: UPDATE items SET quantity = \\$1 WHERE id = \\$2 AND \\$3 <> \\$4$`,
      ),
    )
    expect(snapshot.connections!.byState.find((row) => row.name === 'idle in transaction')!.count).toBeGreaterThanOrEqual(1)
    expect(snapshot.oldestTransactions.map((item) => item.pid)).toContain(pid)

    // A cancel would do nothing to a session that runs no statement: refused with the command that would.
    const cancel = opsctl(['db', 'activity', 'cancel', String(pid), '--yes'])
    expect(cancel.status).toBe(2)
    expect(cancel.stderr).toContain(`Session ${pid} is idle in transaction: it runs no statement, so a cancel would do nothing`)
    expect(cancel.stderr).toContain(`Try: opsctl db activity terminate ${pid} ends the session and rolls back its transaction.`)

    // Without a terminal and without --yes nothing is sent.
    const unconfirmed = opsctl(['db', 'activity', 'terminate', String(pid)])
    expect(unconfirmed.status).toBe(2)
    expect(unconfirmed.stderr).toContain(`Not sent: terminate of session ${pid} needs a confirmation, and there is no terminal to ask on`)

    const terminate = opsctl(['db', 'activity', 'terminate', String(pid), '--yes', '--json'])
    expect(terminate.status).toBe(0)
    expect(JSON.parse(terminate.stdout)).toMatchObject({
      action: 'terminate',
      signalled: true,
      ended: true,
      target: { pid, application: 'billing-worker' },
    })
    expect(terminate.stderr).toContain(`Terminate session ${pid}`) // the plan goes to stderr with --json
    await expect(leaky.query('SELECT 1')).rejects.toThrow()
  })

  it('a pid that is no session is bad input', () => {
    const result = opsctl(['db', 'activity', 'cancel', '999999', '--yes'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('No session with pid 999999')
    const typo = opsctl(['db', 'activity', 'terminate', 'abc'])
    expect(typo.status).toBe(2)
    expect(typo.stderr).toContain('Invalid pid "abc"')
  })

  it('a role without superuser or pg_read_all_stats sees what it may, says what it could not, and may not signal others', async () => {
    const url = new URL(db.url)
    url.username = role
    const other = await session('someone-else')
    const otherPid = await pidOf(other)
    await other.query('BEGIN')
    await other.query('SELECT 1')
    const own = await session('my-own-app', url.toString())
    const ownPid = await pidOf(own)
    await own.query('SELECT pg_sleep(0.01)')

    const snapshot = await takeActivitySnapshot({ ...target(), url: url.toString() }, OPTIONS)
    expect(snapshot.database).toMatchObject({ role, superuser: false })
    const hidden = snapshot.sessions.find((item) => item.pid === otherPid)!
    expect(hidden).toMatchObject({ state: 'hidden', visible: false, user: 'postgres', application: 'someone-else', query: null })
    expect(snapshot.sessions.find((item) => item.pid === ownPid)).toMatchObject({ visible: true, state: 'idle', application: 'my-own-app' })
    expect(snapshot.connections!.byState.find((row) => row.name === 'hidden')!.count).toBeGreaterThanOrEqual(1)
    expect(snapshot.unavailable.map((item) => item.what)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^state, client address, times and statement of \d+ sessions? of other roles$/),
        "cancel and terminate of other roles' sessions",
      ]),
    )
    expect(snapshot.unavailable.find((item) => item.what.startsWith('state'))!.hint).toBe(`GRANT pg_read_all_stats TO ${role};`)

    const text = opsctl(['db', 'activity'], url.toString())
    expect(text.status).toBe(0)
    expect(text.stdout).toContain('Not shown')
    expect(text.stdout).toContain(`role ${role} is not a superuser and lacks pg_read_all_stats`)

    const refused = opsctl(['db', 'activity', 'terminate', String(otherPid), '--yes'], url.toString())
    expect(refused.status).toBe(3)
    expect(refused.stderr).toContain(
      `Not allowed to terminate session ${otherPid}: session ${otherPid} runs as superuser postgres, and only a superuser may signal it; role ${role} is not one`,
    )
    expect((await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [otherPid])).rowCount).toBe(1)

    // Another ordinary role's session: refused until the role is granted pg_signal_backend.
    const otherUrl = new URL(db.url)
    otherUrl.username = otherRole
    const neighbour = await session('neighbour-app', otherUrl.toString())
    const neighbourPid = await pidOf(neighbour)
    const notYet = opsctl(['db', 'activity', 'terminate', String(neighbourPid), '--yes'], url.toString())
    expect(notYet.status).toBe(3)
    expect(notYet.stderr).toContain(
      `session ${neighbourPid} belongs to role ${otherRole}; role ${role} is not a superuser, not a member of ${otherRole}, and not a member of pg_signal_backend`,
    )
    expect(notYet.stderr).toContain(`Try: Connect as ${otherRole}, or have an administrator run GRANT pg_signal_backend TO ${role};`)
    await admin.query(`GRANT pg_signal_backend TO ${role}`)
    const granted = opsctl(['db', 'activity', 'terminate', String(neighbourPid), '--yes'], url.toString())
    expect(granted.status).toBe(0)
    expect(granted.stdout).toContain(`Terminated session ${neighbourPid} (role ${otherRole}, neighbour-app): it has ended.`)

    // Its own sessions it may signal.
    const mine = await session('my-other-app', url.toString())
    const minePid = await pidOf(mine)
    const allowed = opsctl(['db', 'activity', 'terminate', String(minePid), '--yes'], url.toString())
    expect(allowed.status).toBe(0)
    await other.query('ROLLBACK')
  })
})
