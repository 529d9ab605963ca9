/** Exit codes are a contract with scripts; see DESIGN.md "Conventions users rely on". */
export const ExitCode = {
  Ok: 0,
  CheckFailed: 1,
  BadInput: 2,
  Environment: 3,
  InvalidMeasurement: 4,
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
