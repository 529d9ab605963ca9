import { describe, expect, it } from 'vitest'
import { parseShowPools } from '../../src/activity/pgbouncer.js'

const COLUMNS_1_18 = [
  'database',
  'user',
  'cl_active',
  'cl_waiting',
  'cl_active_cancel_req',
  'cl_waiting_cancel_req',
  'sv_active',
  'sv_active_cancel',
  'sv_being_canceled',
  'sv_idle',
  'sv_used',
  'sv_tested',
  'sv_login',
  'maxwait',
  'maxwait_us',
  'pool_mode',
]

const row = (values: Record<string, unknown>) => ({
  database: 'shop',
  user: 'app',
  cl_active: 3,
  cl_waiting: 2,
  cl_active_cancel_req: 0,
  cl_waiting_cancel_req: 0,
  sv_active: 3,
  sv_active_cancel: 0,
  sv_being_canceled: 0,
  sv_idle: 0,
  sv_used: 1,
  sv_tested: 0,
  sv_login: 0,
  maxwait: 1,
  maxwait_us: 250_000,
  pool_mode: 'transaction',
  ...values,
})

describe('SHOW POOLS', () => {
  it('reads counts (numbers or int8 text) and the oldest wait, and leaves out the admin console', () => {
    const parsed = parseShowPools(COLUMNS_1_18, [
      row({}),
      row({ database: 'pgbouncer', user: 'pgbouncer', pool_mode: 'statement' }),
      row({ user: 'report', cl_waiting: '0', maxwait: '0', maxwait_us: '0' }),
    ])
    expect(parsed).toEqual({
      pools: [
        {
          database: 'shop',
          user: 'app',
          clientsActive: 3,
          clientsWaiting: 2,
          serversActive: 3,
          serversIdle: 0,
          serversUsed: 1,
          serversTested: 0,
          serversLogin: 0,
          maxWaitMs: 1250,
          poolMode: 'transaction',
        },
        expect.objectContaining({ user: 'report', clientsWaiting: 0, maxWaitMs: 0 }),
      ],
      skipped: { rows: 0, reasons: [] },
    })
  })

  it('reads an older PgBouncer without maxwait_us, sv_tested and pool_mode', () => {
    const columns = [
      'database',
      'user',
      'cl_active',
      'cl_waiting',
      'cl_cancel_req',
      'sv_active',
      'sv_idle',
      'sv_used',
      'sv_login',
      'maxwait',
    ]
    const parsed = parseShowPools(columns, [
      {
        database: 'd',
        user: 'u',
        cl_active: '1',
        cl_waiting: '4',
        cl_cancel_req: '0',
        sv_active: '1',
        sv_idle: '0',
        sv_used: '0',
        sv_login: '0',
        maxwait: '3',
      },
    ])
    expect(typeof parsed !== 'string' && parsed.pools[0]).toMatchObject({
      clientsWaiting: 4,
      maxWaitMs: 3000,
      poolMode: null,
      serversTested: 0,
    })
  })

  it('refuses an answer that is not SHOW POOLS, naming the missing columns', () => {
    expect(parseShowPools(['?column?'], [{ '?column?': 1 }])).toBe(
      'SHOW POOLS answered without database, user, cl_active, cl_waiting, sv_active, sv_idle (columns: ?column?): is this a PgBouncer admin console?',
    )
  })

  it('skips rows with values that are not counts, and says which', () => {
    const parsed = parseShowPools(COLUMNS_1_18, [
      row({ cl_waiting: '-1' }),
      row({ sv_idle: 'lots' }),
      row({ database: null }),
      row({ cl_active: 1e300 }),
      row({ user: 'ok' }),
    ])
    expect(typeof parsed !== 'string' && parsed.pools.map((pool) => pool.user)).toEqual(['ok'])
    expect(typeof parsed !== 'string' && parsed.skipped).toEqual({
      rows: 4,
      reasons: [
        'row 1: clientsWaiting is not a count',
        'row 2: serversIdle is not a count',
        'row 3: no database or user name',
        'row 4: clientsActive is not a count',
      ],
    })
  })
})
