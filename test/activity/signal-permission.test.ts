import { describe, expect, it } from 'vitest'
import { signalPermission, type SignalPrivileges } from '../../src/activity/signal.js'

const me = (overrides: Partial<SignalPrivileges> = {}): SignalPrivileges => ({
  role: 'reporter',
  superuser: false,
  targetHasRole: true,
  targetSuperuser: false,
  memberOfTarget: false,
  signalBackend: false,
  ...overrides,
})
const target = { pid: 4242, role: 'app' }

describe("PostgreSQL's rule for cancel and terminate", () => {
  it('a superuser may signal anyone, even a background process', () => {
    expect(signalPermission(target, me({ superuser: true, targetHasRole: false }))).toEqual({ allowed: true })
  })

  it('a member of the session role, or of pg_signal_backend, may signal it', () => {
    expect(signalPermission(target, me({ memberOfTarget: true }))).toEqual({ allowed: true })
    expect(signalPermission(target, me({ signalBackend: true }))).toEqual({ allowed: true })
  })

  it('refuses sessions of other roles with the reason and the grant that would allow it', () => {
    expect(signalPermission(target, me())).toEqual({
      allowed: false,
      reason:
        'session 4242 belongs to role app; role reporter is not a superuser, not a member of app, and not a member of pg_signal_backend',
      hint: 'Connect as app, or have an administrator run GRANT pg_signal_backend TO reporter;',
    })
  })

  it('only superusers may signal a superuser session or a background process, pg_signal_backend or not', () => {
    const superTarget = signalPermission({ pid: 7, role: 'postgres' }, me({ targetSuperuser: true, signalBackend: true }))
    expect(superTarget).toMatchObject({
      allowed: false,
      reason: 'session 7 runs as superuser postgres, and only a superuser may signal it; role reporter is not one',
    })
    const background = signalPermission({ pid: 8, role: null }, me({ targetHasRole: false, signalBackend: true }))
    expect(background).toMatchObject({
      allowed: false,
      reason: 'session 8 is a background process, and only a superuser may signal it; role reporter is not one',
    })
  })
})
