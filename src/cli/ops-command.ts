import { Command, Flags, Interfaces } from '@oclif/core'
import {
  ExitCode,
  OpsError,
  isInteractive,
  loadConfig,
  palette,
  redactText,
  redactValue,
  type Palette,
  type Settings,
} from '../core/index.js'

export type OpsFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof OpsCommand)['baseFlags'] & T['flags']>
export type OpsArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const ENVIRONMENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EACCES', 'EPERM', 'EHOSTUNREACH', '57P03', '28P01', '3D000'])

/**
 * The base of every command: --json, --config, --debug; config loading; one way to
 * render results and one way to fail (message, hint, exit code, no stack unless --debug).
 * Everything printed goes through redaction.
 */
export abstract class OpsCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    config: Flags.string({
      helpGroup: 'GLOBAL',
      description: 'Path to opsctl.yaml (default: ./opsctl.yaml or the nearest parent that has one).',
      env: 'OPSCTL_CONFIG',
    }),
    debug: Flags.boolean({ helpGroup: 'GLOBAL', description: 'Print stack traces of errors.' }),
  }

  /** Flags that override config keys: flag name -> config path ('database-url' -> 'database.url'). */
  static configFlags: Record<string, string> = {}

  protected flags!: OpsFlags<T>
  protected args!: OpsArgs<T>
  private cachedSettings: Settings | undefined

  override async init(): Promise<void> {
    await super.init()
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof OpsCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as OpsFlags<T>
    this.args = args as OpsArgs<T>
  }

  /** opsctl.yaml + OPSCTL_* env + flags, loaded on first use so commands that need none never fail on it. */
  protected get settings(): Settings {
    if (!this.cachedSettings) {
      const mapping = (this.ctor as unknown as typeof OpsCommand).configFlags
      const flagValues = this.flags as Record<string, unknown>
      const overrides = Object.fromEntries(Object.entries(mapping).map(([flag, path]) => [path, flagValues[flag]]))
      this.cachedSettings = loadConfig({ configPath: this.flags.config, overrides })
    }
    return this.cachedSettings
  }

  protected get colors(): Palette {
    return palette(isInteractive(process.stdout))
  }

  /** Human text to stdout, or nothing with --json (oclif prints the returned result instead). */
  protected render<R>(result: R, human: (result: R, colors: Palette) => string): R {
    if (!this.jsonEnabled()) this.log(human(result, this.colors))
    return result
  }

  override log(message = '', ...args: unknown[]): void {
    super.log(redactText(message), ...args)
  }

  override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(redactText(message), ...args)
  }

  /** Diagnostics and progress go to stderr, also with --json. */
  protected note(message: string): void {
    process.stderr.write(`${redactText(message)}\n`)
  }

  protected override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(redactValue(json), null, 2)}\n`)
  }

  protected override async catch(error: Error & { oclif?: { exit?: number }; code?: string }): Promise<unknown> {
    if (error.oclif?.exit !== undefined && error.code === 'EEXIT') throw error
    const failure = asOpsError(error)
    const colors = palette(isInteractive(process.stderr))
    const lines = [`${colors.red('Error:')} ${failure.message}`]
    if (failure.hint) lines.push(`${colors.dim('Try:')} ${failure.hint}`)
    if (this.wantsStack() && error.stack) lines.push(error.stack)
    process.stderr.write(`${redactText(lines.join('\n'))}\n`)
    if (this.jsonEnabled()) this.logJson({ error: failure.toJSON() })
    return this.exit(failure.exit)
  }

  private wantsStack(): boolean {
    return Boolean(this.flags?.debug || process.argv.includes('--debug') || process.env.DEBUG)
  }
}

/** Any error becomes an OpsError: parse errors are bad usage, network failures are environment. */
export function asOpsError(error: Error & { oclif?: { exit?: number }; code?: string }): OpsError {
  if (error instanceof OpsError) return error
  if (error.oclif?.exit === 2 || error.name === 'CLIError' || /Parse|Flag|Arg/.test(error.constructor?.name ?? '')) {
    return new OpsError(error.message.replace(/\n*See more help with --help$/, ''), {
      exit: ExitCode.BadInput,
      hint: 'Run the command with --help for its flags and examples.',
    })
  }
  if (error.code && ENVIRONMENT_CODES.has(error.code)) {
    return new OpsError(error.message, { exit: ExitCode.Environment, hint: 'Check that the server is running and reachable.', cause: error })
  }
  return new OpsError(`Unexpected error: ${error.message}`, {
    exit: ExitCode.CheckFailed,
    hint: 'Re-run with --debug for the stack trace, and report it if it persists.',
    cause: error,
  })
}
