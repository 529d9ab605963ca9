/** Exit codes are a contract with scripts; see DESIGN.md "Conventions users rely on". */
export const ExitCode = {
  Ok: 0,
  CheckFailed: 1,
  BadInput: 2,
  Environment: 3,
  InvalidMeasurement: 4,
  /** A bug in opsctl (an error nothing anticipated), never confused with "a check failed" (EX_SOFTWARE). */
  Internal: 70,
  Interrupted: 130,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface OpsErrorOptions {
  exit?: ExitCode
  /** What the user can do about it, printed as "Try: ...". */
  hint?: string
  cause?: unknown
}

/** The one error type commands render: a message saying what and where, a hint, an exit code. */
export class OpsError extends Error {
  readonly exit: ExitCode
  readonly hint: string | undefined

  constructor(message: string, options: OpsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'OpsError'
    this.exit = options.exit ?? ExitCode.CheckFailed
    this.hint = options.hint
  }

  toJSON(): { message: string; hint?: string; exit: number } {
    return { message: this.message, ...(this.hint ? { hint: this.hint } : {}), exit: this.exit }
  }
}

export function badInput(message: string, hint?: string): OpsError {
  return new OpsError(message, { exit: ExitCode.BadInput, hint })
}

export function environmentError(message: string, hint?: string, cause?: unknown): OpsError {
  return new OpsError(message, { exit: ExitCode.Environment, hint, cause })
}

export function isOpsError(error: unknown): error is OpsError {
  return error instanceof OpsError
}

/**
 * An error nobody anticipated: a bug in opsctl, not a failed check nor bad input. The base command
 * prints it as such (exit 70) so that a script never mistakes a crash for "the budget was exceeded".
 */
export class BugError extends OpsError {
  constructor(message: string, cause?: unknown) {
    super(message, {
      exit: ExitCode.Internal,
      hint: 'This is a bug in opsctl. Re-run with --debug (or OPSCTL_DEBUG=1) for the stack trace and report it.',
      cause,
    })
    this.name = 'BugError'
  }
}
