import './event-catalog.js'
import { Command, Flags, Interfaces } from '@oclif/core'
import {
  BugError,
  ExitCode,
  OpsError,
  exitCodeOf,
  isInteractive,
  loadConfig,
  palette,
  progressBar,
  redactText,
  redactValue,
  verdictLabel,
  type Palette,
  type ProgressListener,
  type Settings,
  type Verdict,
} from '../core/index.js'

export type OpsFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof OpsCommand)['baseFlags'] & T['flags']>
export type OpsArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const ENVIRONMENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EACCES',
  'EPERM',
  'EHOSTUNREACH',
  '57P03',
  '28P01',
  '3D000',
])

/**
 * The base of every command: --json, --config, --debug; config loading; one way to render
 * results, one way to conclude from a verdict, and one way to fail (message, hint, exit code, no
 * stack unless --debug). Everything printed goes through redaction.
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
  private interruptController: AbortController | undefined
  private readonly disposers: Array<() => void> = []

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

  /**
   * Human text to stdout, or nothing with --json (oclif prints the returned result instead). The
   * data is redacted before the renderer sees it, so the finished text is never rewritten.
   */
  protected render<R>(result: R, human: (result: R, colors: Palette) => string): R {
    if (!this.jsonEnabled()) super.log(human(redactValue(result), this.colors))
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

  /** What a module calls with its progress: a bar on an interactive stderr, nothing in CI or a pipe. */
  protected get progress(): ProgressListener {
    return progressBar(process.stderr)
  }

  /**
   * The one place a command's verdict becomes its exit code: pass 0, fail and inconclusive 1,
   * invalid measurement 4. Anything but a pass is said on stderr (the reasons, then "Try:"), also
   * with --json, whose document stays the only thing on stdout. Returns the result to return.
   */
  protected conclude<R>(result: R, outcome: Verdict): R {
    if (outcome.status !== 'pass') {
      const colors = palette(isInteractive(process.stderr))
      const [first = '', ...rest] = outcome.reasons
      const lines = [`${colors.red(`${verdictLabel(outcome.status)}:`)} ${first}`, ...rest.map((reason) => `  ${reason}`)]
      if (outcome.hint) lines.push(`${colors.dim('Try:')} ${outcome.hint}`)
      process.stderr.write(`${redactText(lines.join('\n'))}\n`)
    }
    process.exitCode = exitCodeOf(outcome)
    return result
  }

  /**
   * Aborted on Ctrl-C or SIGTERM while the command runs, so that long work (a load run, a
   * rollout, a gate) stops cleanly and returns what it has. Modules take the signal; they never
   * install signal handlers themselves.
   */
  protected get interruptSignal(): AbortSignal {
    if (!this.interruptController) {
      const controller = new AbortController()
      const onSignal = () => controller.abort()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      this.disposers.push(() => {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      })
      this.interruptController = controller
    }
    return this.interruptController.signal
  }

  override async finally(error: Error | undefined): Promise<unknown> {
    for (const dispose of this.disposers.splice(0)) dispose()
    return super.finally(error)
  }

  /** The user stopped the command (Ctrl-C): what was done is still printed, and the exit code is 130. */
  protected interrupted<R>(result: R): R {
    process.exitCode = ExitCode.Interrupted
    return result
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
    return Boolean(this.flags?.debug || process.argv.includes('--debug') || debugRequested(process.env))
  }
}

/**
 * OPSCTL_DEBUG=1, or DEBUG naming opsctl the way the `debug` package reads it (`opsctl`,
 * `opsctl:*`, `*`, comma or space separated). Any other DEBUG, set for other tools, is not ours.
 */
export function debugRequested(env: NodeJS.ProcessEnv): boolean {
  const own = env.OPSCTL_DEBUG
  if (own !== undefined && own !== '' && own !== '0' && own.toLowerCase() !== 'false') return true
  const namespaces = (env.DEBUG ?? '').split(/[\s,]+/).filter(Boolean)
  const enabled = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test('opsctl')
  if (namespaces.some((item) => item.startsWith('-') && enabled(item.slice(1)))) return false
  return namespaces.some((item) => !item.startsWith('-') && (enabled(item) || item.startsWith('opsctl:')))
}

/**
 * Any error becomes an OpsError: parse errors are bad usage, network failures are environment,
 * and anything else is a bug (exit 70), never mistaken for "a check failed".
 */
export function asOpsError(error: Error & { oclif?: { exit?: number }; code?: string }): OpsError {
  if (error instanceof OpsError) return error
  if (error.oclif?.exit === 2 || error.name === 'CLIError' || /Parse|Flag|Arg/.test(error.constructor?.name ?? '')) {
    return new OpsError(error.message.replace(/\n*See more help with --help$/, ''), {
      exit: ExitCode.BadInput,
      hint: 'Run the command with --help for its flags and examples.',
    })
  }
  if (error.code && ENVIRONMENT_CODES.has(error.code)) {
    return new OpsError(error.message, {
      exit: ExitCode.Environment,
      hint: 'Check that the server is running and reachable.',
      cause: error,
    })
  }
  return new BugError(`Internal error (a bug in opsctl): ${error.message}`, error)
}
