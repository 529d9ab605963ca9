/**
 * A test that needs an absent component skips with the reason; under OPSCTL_REQUIRE_ALL=1
 * (CI) the same absence fails the run instead, so nothing is silently skipped there.
 */
export function requireAll(): boolean {
  return process.env.OPSCTL_REQUIRE_ALL === '1'
}

/** true when the component is there; otherwise logs why the tests skip (or throws in CI). */
export function requireOrSkip(available: boolean, reason: string): boolean {
  if (available) return true
  if (requireAll()) throw new Error(`OPSCTL_REQUIRE_ALL=1 but a required component is missing: ${reason}`)
  process.stderr.write(`[skip] ${reason}\n`)
  return false
}
