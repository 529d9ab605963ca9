import type { LockNode, LockTree, LockWait, RawLock, Session } from './model.js'

/**
 * Lock chains as trees, from each root blocker (a session that blocks others and waits for
 * nobody) down to every session waiting on it, directly or behind another waiter. Pure: sessions
 * with their pg_blocking_pids(), the pg_locks rows of the sessions involved, and the server's now.
 *
 * A waiter blocked by several sessions (the queue of a row lock: the holder and those ahead of it)
 * is placed once, under the one that holds a granted lock on the object it waits for, and names the
 * others in `alsoBlockedBy`. Sessions waiting in a cycle (a deadlock the detector has not broken
 * yet) form a tree rooted at the lowest pid of the cycle, marked `deadlock`.
 */
export function buildLockTrees(sessions: readonly Session[], locks: readonly RawLock[], nowMs: number): LockTree[] {
  const byPid = new Map(sessions.map((session) => [session.pid, session]))
  const waiters = sessions.filter((session) => session.blockedBy.length > 0)
  if (waiters.length === 0) return []

  const locksOf = new Map<number, RawLock[]>()
  for (const lock of locks) {
    const list = locksOf.get(lock.pid)
    if (list) list.push(lock)
    else locksOf.set(lock.pid, [lock])
  }

  const parentOf = new Map<number, number>()
  const nodes = new Map<number, LockNode>()
  const nodeOf = (pid: number): LockNode => {
    let node = nodes.get(pid)
    if (!node) {
      node = bareNode(pid, byPid.get(pid))
      nodes.set(pid, node)
    }
    return node
  }

  for (const waiter of waiters) {
    const own = locksOf.get(waiter.pid) ?? []
    const awaited = own.find((lock) => !lock.granted)
    const holders = awaited
      ? waiter.blockedBy.filter((pid) => (locksOf.get(pid) ?? []).some((lock) => lock.granted && lock.objectKey === awaited.objectKey))
      : []
    const parent = holders[0] ?? waiter.blockedBy[0]!
    parentOf.set(waiter.pid, parent)
    const node = nodeOf(waiter.pid)
    node.waiting = lockWait(waiter, awaited, own, nowMs)
    node.alsoBlockedBy = waiter.blockedBy.filter((pid) => pid !== parent)
    for (const pid of waiter.blockedBy) nodeOf(pid)
  }

  const childrenOf = new Map<number, number[]>()
  for (const [child, parent] of parentOf) {
    const list = childrenOf.get(parent)
    if (list) list.push(child)
    else childrenOf.set(parent, [child])
  }

  const placed = new Set<number>()
  const trees: LockTree[] = []
  const grow = (root: number, deadlock: boolean) => {
    const stack = [root]
    placed.add(root)
    while (stack.length > 0) {
      const pid = stack.pop()!
      const node = nodeOf(pid)
      for (const child of childrenOf.get(pid) ?? []) {
        if (placed.has(child)) continue
        placed.add(child)
        node.children.push(nodeOf(child))
        stack.push(child)
      }
      node.children.sort(byLongestWait)
    }
    trees.push(summarize(nodeOf(root), deadlock))
  }

  const roots = [...nodes.keys()].filter((pid) => !parentOf.has(pid)).sort((a, b) => a - b)
  for (const root of roots) grow(root, false)

  // What is left waits in a cycle (or behind one): root each cycle at its lowest pid.
  for (const waiter of waiters) {
    if (placed.has(waiter.pid)) continue
    const seen: number[] = []
    let pid: number | undefined = waiter.pid
    while (pid !== undefined && !seen.includes(pid) && !placed.has(pid)) {
      seen.push(pid)
      pid = parentOf.get(pid)
    }
    if (pid === undefined || placed.has(pid)) continue
    const cycle = seen.slice(seen.indexOf(pid))
    grow(Math.min(...cycle), true)
  }

  return trees.sort((a, b) => b.waiters - a.waiters || (b.longestWaitMs ?? 0) - (a.longestWaitMs ?? 0) || a.root.pid - b.root.pid)
}

function bareNode(pid: number, session: Session | undefined): LockNode {
  return {
    pid,
    user: session?.user ?? null,
    application: session?.application ?? '',
    state: session?.state ?? 'hidden',
    query: session?.query ?? null,
    transactionAgeMs: session?.transactionAgeMs ?? null,
    queryAgeMs: session?.queryAgeMs ?? null,
    alsoBlockedBy: [],
    children: [],
  }
}

function byLongestWait(a: LockNode, b: LockNode): number {
  return (b.waiting?.waitMs ?? -1) - (a.waiting?.waitMs ?? -1) || a.pid - b.pid
}

function summarize(root: LockNode, deadlock: boolean): LockTree {
  let waiters = 0
  let longest: number | null = null
  const stack = [...root.children]
  while (stack.length > 0) {
    const node = stack.pop()!
    waiters++
    const wait = node.waiting?.waitMs
    if (wait !== null && wait !== undefined && (longest === null || wait > longest)) longest = wait
    stack.push(...node.children)
  }
  if (deadlock && root.waiting?.waitMs != null && (longest === null || root.waiting.waitMs > longest)) longest = root.waiting.waitMs
  return { root, waiters, longestWaitMs: longest, deadlock }
}

/** What a waiter waits for: its ungranted lock, or (when the lock went away between two queries) its wait event. */
function lockWait(waiter: Session, awaited: RawLock | undefined, own: readonly RawLock[], nowMs: number): LockWait {
  if (!awaited) {
    return {
      locktype: waiter.waitEvent ?? 'unknown',
      mode: 'unknown',
      target: waiter.waitEvent ? `wait event ${waiter.waitEvent}` : 'a lock (released while the snapshot was taken)',
      relation: null,
      waitMs: waiter.stateAgeMs,
    }
  }
  // A session waiting for a row holds the tuple lock of that row (or a lock on its table): that names the relation.
  const relation =
    awaited.relation ??
    own.find((lock) => lock.granted && lock.locktype === 'tuple' && lock.relation)?.relation ??
    (awaited.locktype === 'transactionid' ? null : (own.find((lock) => lock.granted && lock.relation)?.relation ?? null))
  const waitMs = awaited.waitStart ? Math.max(0, nowMs - awaited.waitStart.getTime()) : waiter.stateAgeMs
  return { locktype: awaited.locktype, mode: awaited.mode, target: describeLockTarget(awaited, relation), relation, waitMs }
}

export function describeLockTarget(
  lock: Pick<RawLock, 'locktype' | 'relation' | 'page' | 'tuple' | 'transactionId' | 'virtualXid'>,
  relation: string | null,
): string {
  switch (lock.locktype) {
    case 'relation':
      return `relation ${relation ?? '?'}`
    case 'tuple':
      return `row (${lock.page ?? '?'},${lock.tuple ?? '?'}) of ${relation ?? '?'}`
    case 'transactionid':
      return relation ? `a row of ${relation} (transaction ${lock.transactionId ?? '?'})` : `transaction ${lock.transactionId ?? '?'}`
    case 'virtualxid':
      return `virtual transaction ${lock.virtualXid ?? '?'}`
    case 'advisory':
      return 'an advisory lock'
    default:
      return relation ? `${lock.locktype} of ${relation}` : lock.locktype
  }
}
