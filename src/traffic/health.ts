/**
 * A backend's health as a small state machine, pure (time comes in as numbers). Active checks
 * move it with HAProxy's rise/fall rule: `fall` failed checks in a row take an up backend down,
 * `rise` passing checks in a row bring a down one back. Passive signals come from real traffic:
 * `connectFailures` connection errors in a row, or `errorBurst` 5xx answers in a row, take it down
 * at once, between checks. Without active checks a passively downed backend is tried again after
 * `cooldownMs` (half-open): one more failure takes it down again.
 */

export interface HealthPolicy {
  /** Consecutive failed checks that take an up backend down. */
  fall: number
  /** Consecutive passing checks that bring a down backend up. */
  rise: number
  /** Consecutive connection failures (no answer) that take it down; 0 disables. */
  connectFailures: number
  /** Consecutive 5xx answers that take it down; 0 disables. */
  errorBurst: number
  /** Without active checks: how long a passively downed backend stays out before it is tried again. */
  cooldownMs: number
  /** Active checks run (otherwise only passive signals and the cooldown move it). */
  activeChecks: boolean
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = {
  fall: 3,
  rise: 2,
  connectFailures: 3,
  errorBurst: 20,
  cooldownMs: 10_000,
  activeChecks: true,
}

export type HealthTransition = { to: 'down' | 'up'; reason: string } | undefined

export class HealthState {
  up = true
  reason: string | undefined
  /** ms of the last up/down change */
  since: number
  /** How long the previous state lasted, ms (set on each change). */
  lastDurationMs = 0
  private checksPassed = 0
  private checksFailed = 0
  private connectErrors = 0
  private serverErrors = 0

  constructor(
    private readonly policy: HealthPolicy,
    now: number,
  ) {
    this.since = now
  }

  checkPassed(now: number, detail = 'check passed'): HealthTransition {
    this.checksFailed = 0
    this.checksPassed++
    if (!this.up && this.checksPassed >= this.policy.rise) return this.become(true, `${this.checksPassed} checks passed (${detail})`, now)
    if (this.up) this.reason = detail
    return undefined
  }

  checkFailed(now: number, detail: string): HealthTransition {
    this.checksPassed = 0
    this.checksFailed++
    if (this.up && this.checksFailed >= this.policy.fall) return this.become(false, `${this.checksFailed} checks failed: ${detail}`, now)
    if (!this.up) this.reason = detail
    return undefined
  }

  /** A request got no answer (refused, reset, timed out). */
  connectionFailed(now: number, detail: string): HealthTransition {
    this.serverErrors = 0
    this.connectErrors++
    if (this.up && this.policy.connectFailures > 0 && this.connectErrors >= this.policy.connectFailures)
      return this.become(false, `${this.connectErrors} requests in a row got no answer: ${detail}`, now)
    return undefined
  }

  /** A request got an answer. */
  answered(now: number, status: number): HealthTransition {
    this.connectErrors = 0
    if (status < 500) {
      this.serverErrors = 0
      return undefined
    }
    this.serverErrors++
    if (this.up && this.policy.errorBurst > 0 && this.serverErrors >= this.policy.errorBurst)
      return this.become(false, `${this.serverErrors} answers in a row were 5xx (last ${status})`, now)
    return undefined
  }

  /** Without active checks, a passively downed backend gets another try after the cooldown. */
  cooldownElapsed(now: number): HealthTransition {
    if (this.up || this.policy.activeChecks || now - this.since < this.policy.cooldownMs) return undefined
    return this.become(true, `tried again after ${Math.round(this.policy.cooldownMs / 1000)}s out`, now)
  }

  private become(up: boolean, reason: string, now: number): HealthTransition {
    this.up = up
    this.reason = reason
    this.lastDurationMs = now - this.since
    this.since = now
    this.checksPassed = 0
    this.checksFailed = 0
    this.connectErrors = 0
    this.serverErrors = 0
    return { to: up ? 'up' : 'down', reason }
  }
}
