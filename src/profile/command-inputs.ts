/** The profile commands' flags (already parsed at the edge) and the command after `--`, checked and turned into options. Pure. */
import { basename } from 'node:path'
import { badInput } from '../core/index.js'
import type { ProfileTarget } from './capture.js'
import type { LoadSpec } from './load-target.js'
import { defaultProfileDir, serviceTarget, type ServiceCommands } from './service-target.js'

export interface ProfileFlagValues {
  load?: string | undefined
  scenario?: string | undefined
  /** Milliseconds. */
  duration?: number | undefined
  connections?: number | undefined
  /** Requests per second. */
  rate?: number | undefined
  service?: string | undefined
  out?: string | undefined
  /** Milliseconds. */
  'start-timeout'?: number | undefined
}

export interface ProfileInputContext {
  /** `.opsctl/`: runs write to its profiles/ by default. */
  stateDir: string
  /** The reference service's database (config database.url, DATABASE_URL or --database-url); without it, its embedded one. */
  databaseUrl?: string | undefined
  /** How to start the services opsctl knows by name. */
  services: ServiceCommands
  /** Prefix of the default output directory's name (`leak-`). */
  outPrefix?: string
}

export interface ProfileInputs {
  target: ProfileTarget
  load: LoadSpec
  durationMs?: number
  connections?: number
  rate?: number
  outDir: string
  startTimeoutMs?: number
}

/** The words after `--` on the command line (oclif keeps them in argv). */
export function commandAfterDashes(argv: readonly string[]): string[] {
  const at = argv.indexOf('--')
  return at < 0 ? [] : argv.slice(at + 1)
}

/** `--rate 200`: requests per second, above 0 (fractions allowed: 0.5 is one request every 2s). */
export function parseRequestRate(text: string, name = '--rate'): number {
  const rate = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN
  if (!(Number.isFinite(rate) && rate > 0)) throw badInput(`${name} must be a number of requests per second above 0, got "${text}"`)
  return rate
}

/** Node options that take the next word as their value. */
const VALUE_OPTIONS = new Set([
  '--import',
  '--require',
  '-r',
  '--loader',
  '--experimental-loader',
  '--env-file',
  '--conditions',
  '-C',
  '--title',
  '--input-type',
  '--stack-size',
])

/** `server.js` for `node --import tsx server.js --port 3`: how the report and the journal name the target. */
export function scriptLabel(command: readonly string[]): string {
  for (let index = 1; index < command.length; index++) {
    const word = command[index]!
    if (word.startsWith('-')) {
      if (VALUE_OPTIONS.has(word)) index++
      continue
    }
    return basename(word)
  }
  return basename(command[0] ?? 'node')
}

export function profileInputs(flags: ProfileFlagValues, command: string[], context: ProfileInputContext): ProfileInputs {
  if (flags.service && command.length) throw badInput('Give either --service or a command after --, not both')
  if (flags.load && flags.scenario) throw badInput('Give either --load or --scenario, not both')
  let target: ProfileTarget
  let load: LoadSpec | undefined = flags.scenario ? { scenarioFile: flags.scenario } : flags.load ? { url: flags.load } : undefined
  if (flags.service) {
    const service = serviceTarget(flags.service, context.services, context.databaseUrl ? { databaseUrl: context.databaseUrl } : {})
    target = service.target
    load ??= { url: service.defaultLoad }
  } else {
    if (command.length === 0) {
      throw badInput(
        'Nothing to profile',
        'Give the command after --, e.g. opsctl profile --load /orders -- node server.js, or use --service reference.',
      )
    }
    if (!load)
      throw badInput('Where should the load go?', 'Give --load with a path or URL on the target (e.g. --load /orders), or --scenario FILE.')
    target = { label: scriptLabel(command), command }
  }
  if (flags.duration !== undefined && flags.duration < 1000)
    throw badInput('--duration must be at least 1s: a shorter profile has too few samples')
  if (flags.rate !== undefined && !(Number.isFinite(flags.rate) && flags.rate > 0))
    throw badInput(`--rate must be a number of requests per second above 0, got ${flags.rate}`)
  return {
    target,
    load,
    ...(flags.duration !== undefined ? { durationMs: flags.duration } : {}),
    ...(flags.connections !== undefined ? { connections: flags.connections } : {}),
    ...(flags.rate !== undefined ? { rate: flags.rate } : {}),
    outDir: flags.out ?? defaultProfileDir(context.stateDir, new Date(), context.outPrefix ?? ''),
    ...(flags['start-timeout'] !== undefined ? { startTimeoutMs: flags['start-timeout'] } : {}),
  }
}
