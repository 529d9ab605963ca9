/**
 * Polls `probe` every 100 ms until it returns a value other than undefined or false, and returns
 * it; throws naming `what` after `timeoutMs`. Tests wait for the event they need this way rather
 * than for a fixed time, which a busy CI machine outlasts.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
