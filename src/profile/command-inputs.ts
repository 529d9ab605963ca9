/** The profile commands' flags (strings as typed) and the command after `--`, checked and turned into options. Pure. */
import { basename } from 'node:path'
import { badInput, parseDuration } from '../core/index.js'
import type { ProfileTarget } from './capture.js'
import type { LoadSpec } from './load-target.js'
import { defaultProfileDir, serviceTarget } from './service-target.js'

export interface ProfileFlagValues {
  load?: string
  scenario?: string
  duration?: string
  connections?: number
  rate?: string
  service?: string
  'database-url'?: string
  out?: string
  'start-timeout'?: string
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

/** Node options that take the next word as their value. */
const VALUE_OPTIONS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--env-file', '--conditions', '-C', '--title', '--input-type', '--stack-size'])

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

/** `settings.config.database.url` (opsctl.yaml or OPSCTL_DATABASE_URL, or the flag through configFlags) is the reference service's database. */
export function profileInputs(flags: ProfileFlagValues, command: string[], settings: { stateDir: string; config?: { database?: { url?: string | undefined } } }, outPrefix = ''): ProfileInputs {
  if (flags.service && command.length) throw badInput('Give either --service or a command after --, not both')
  if (flags.load && flags.scenario) throw badInput('Give either --load or --scenario, not both')
  let target: ProfileTarget
  let load: LoadSpec | undefined = flags.scenario ? { scenarioFile: flags.scenario } : flags.load ? { url: flags.load } : undefined
  if (flags.service) {
    const databaseUrl = flags['database-url'] ?? settings.config?.database?.url
    const service = serviceTarget(flags.service, databaseUrl ? { databaseUrl } : {})
    target = service.target
    load ??= { url: service.defaultLoad }
  } else {
    if (command.length === 0) {
      throw badInput('Nothing to profile', 'Give the command after --, e.g. opsctl profile --load /orders -- node server.js, or use --service reference.')
    }
    if (!load) throw badInput('Where should the load go?', 'Give --load with a path or URL on the target (e.g. --load /orders), or --scenario FILE.')
    target = { label: scriptLabel(command), command }
  }
  let durationMs: number | undefined
  if (flags.duration !== undefined) {
    durationMs = parseDuration(flags.duration, '--duration')
    if (durationMs < 1000) throw badInput('--duration must be at least 1s: a shorter profile has too few samples')
  }
  let rate: number | undefined
  if (flags.rate !== undefined) {
    rate = Number(flags.rate)
    if (!(Number.isFinite(rate) && rate > 0)) throw badInput(`--rate must be a number of requests per second above 0, got "${flags.rate}"`)
  }
  return {
    target,
    load,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(flags.connections !== undefined ? { connections: flags.connections } : {}),
    ...(rate !== undefined ? { rate } : {}),
    outDir: flags.out ?? defaultProfileDir(settings.stateDir, new Date(), outPrefix),
    ...(flags['start-timeout'] !== undefined ? { startTimeoutMs: parseDuration(flags['start-timeout'], '--start-timeout') } : {}),
  }
}
