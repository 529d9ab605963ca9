import { describe, expect, it } from 'vitest'
import { buildLockTrees } from '../../src/activity/lock-tree.js'
import type { LockNode, LockTree } from '../../src/activity/model.js'
import { lockTreeLines } from '../../src/activity/view.js'
import { lock, session } from './fixtures.js'

const NOW = Date.parse('2026-12-05T10:00:00Z')
const ago = (ms: number) => new Date(NOW - ms)

/** pid -> children pids, to compare tree shapes. */
function shape(node: LockNode): unknown {
  return node.children.length === 0 ? node.pid : { [node.pid]: node.children.map(shape) }
}

describe('lock trees', () => {
  it('no waiters, no trees', () => {
    expect(buildLockTrees([session(1), session(2)], [], NOW)).toEqual([])
  })

  // The scene: A holds row locks; B and C wait on A; D waits on B (a row B updated first).
  it('roots the chain at the holder, with modes, relations and waits', () => {
    const sessions = [
      session(10, { state: 'active', query: 'SELECT pg_sleep($1)', transactionAgeMs: 30_000, queryAgeMs: 29_000 }),
      session(11, { state: 'active', blockedBy: [10] }),
      session(12, { state: 'active', blockedBy: [10] }),
      session(13, { state: 'active', blockedBy: [11] }),
    ]
    const locks = [
      lock(10, { locktype: 'transactionid', mode: 'ExclusiveLock', relation: null, transactionId: '700', on: 'xid:700' }),
      lock(11, {
        locktype: 'transactionid',
        mode: 'ShareLock',
        relation: null,
        granted: false,
        transactionId: '700',
        on: 'xid:700',
        waitStart: ago(20_000),
      }),
      lock(11, { locktype: 'tuple', mode: 'ExclusiveLock', relation: 'items', page: 0, tuple: 1, on: 'tuple:1' }),
      lock(11, { locktype: 'transactionid', mode: 'ExclusiveLock', relation: null, transactionId: '701', on: 'xid:701' }),
      lock(12, {
        locktype: 'transactionid',
        mode: 'ShareLock',
        relation: null,
        granted: false,
        transactionId: '700',
        on: 'xid:700',
        waitStart: ago(15_000),
      }),
      lock(12, { locktype: 'tuple', mode: 'ExclusiveLock', relation: 'items', page: 0, tuple: 2, on: 'tuple:2' }),
      lock(13, {
        locktype: 'transactionid',
        mode: 'ShareLock',
        relation: null,
        granted: false,
        transactionId: '701',
        on: 'xid:701',
        waitStart: ago(5_000),
      }),
    ]
    const [tree, ...rest] = buildLockTrees(sessions, locks, NOW)
    expect(rest).toEqual([])
    expect(shape(tree!.root)).toEqual({ 10: [{ 11: [13] }, 12] })
    expect(tree).toMatchObject({ waiters: 3, longestWaitMs: 20_000, deadlock: false })
    const b = tree!.root.children[0]!
    expect(b.waiting).toEqual({
      locktype: 'transactionid',
      mode: 'ShareLock',
      target: 'a row of items (transaction 700)',
      relation: 'items',
      waitMs: 20_000,
    })
    expect(b.children[0]!.waiting).toMatchObject({ mode: 'ShareLock', target: 'transaction 701', waitMs: 5000 })
    expect(tree!.root.waiting).toBeUndefined()
  })

  it('places a waiter queued behind several sessions under the holder, and names the others', () => {
    const sessions = [session(1, { state: 'idle in transaction' }), session(2, { blockedBy: [1] }), session(3, { blockedBy: [2, 1] })]
    const locks = [
      lock(1, { mode: 'AccessExclusiveLock', on: 'rel:orders', relation: 'orders' }),
      lock(2, { mode: 'AccessShareLock', granted: false, on: 'rel:orders', relation: 'orders', waitStart: ago(3000) }),
      lock(3, { mode: 'RowExclusiveLock', granted: false, on: 'rel:orders', relation: 'orders', waitStart: ago(1000) }),
    ]
    const [tree] = buildLockTrees(sessions, locks, NOW)
    expect(shape(tree!.root)).toEqual({ 1: [2, 3] })
    const three = tree!.root.children.find((node) => node.pid === 3)!
    expect(three.alsoBlockedBy).toEqual([2])
    expect(three.waiting?.target).toBe('relation orders')
  })

  it('falls back to the first blocker and the wait event when the lock went away between the queries', () => {
    const sessions = [session(1), session(2, { blockedBy: [1], waitEvent: 'Lock: transactionid', stateAgeMs: 700 })]
    const [tree] = buildLockTrees(sessions, [], NOW)
    expect(tree!.root.children[0]!.waiting).toEqual({
      locktype: 'Lock: transactionid',
      mode: 'unknown',
      target: 'wait event Lock: transactionid',
      relation: null,
      waitMs: 700,
    })
  })

  it('shows a blocker it cannot see (another role, a background process) as a hidden root', () => {
    const [tree] = buildLockTrees([session(2, { blockedBy: [99] })], [], NOW)
    expect(tree!.root).toMatchObject({ pid: 99, state: 'hidden', user: null, query: null })
  })

  it('roots a cycle at its lowest pid and marks it a deadlock', () => {
    const sessions = [
      session(7, { blockedBy: [5] }),
      session(5, { blockedBy: [6] }),
      session(6, { blockedBy: [7] }),
      session(8, { blockedBy: [6] }),
    ]
    const trees = buildLockTrees(sessions, [], NOW)
    expect(trees).toHaveLength(1)
    expect(trees[0]!.deadlock).toBe(true)
    expect(shape(trees[0]!.root)).toEqual({ 5: [{ 7: [{ 6: [8] }] }] })
  })

  it('orders trees by waiters, then longest wait', () => {
    const sessions = [
      session(1),
      session(2, { blockedBy: [1] }),
      session(3),
      session(4, { blockedBy: [3] }),
      session(5, { blockedBy: [3] }),
    ]
    expect(buildLockTrees(sessions, [], NOW).map((tree) => tree.root.pid)).toEqual([3, 1])
  })

  it('handles a chain of a thousand sessions without recursion limits', () => {
    const sessions = [session(1), ...Array.from({ length: 1000 }, (_, i) => session(i + 2, { blockedBy: [i + 1] }))]
    const [tree] = buildLockTrees(sessions, [], NOW)
    expect(tree!.waiters).toBe(1000)
    expect(lockTreeLines(tree as LockTree)).toHaveLength(1001)
  })
})

describe('lock tree lines', () => {
  it('draws the branches and keeps them drawn on the statement lines', () => {
    const sessions = [
      session(1, { state: 'active' }),
      session(2, { blockedBy: [1] }),
      session(3, { blockedBy: [2] }),
      session(4, { blockedBy: [1] }),
    ]
    const lines = lockTreeLines(buildLockTrees(sessions, [], NOW)[0]!)
    expect(lines.map((line) => `${line.prefix}${line.node.pid}|${line.continuation}`)).toEqual([
      '1|│  ',
      '├─ 2|│  │  ',
      '│  └─ 3|│        ',
      '└─ 4|      ',
    ])
  })
})
