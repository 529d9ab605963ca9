/**
 * What the `flags` commands call: pick the backend (flags.yaml, or Unleash when UNLEASH_URL and
 * UNLEASH_API_TOKEN are set), make the change, record it in the ops journal.
 */
import { join, resolve } from 'node:path'
import { badInput, environmentError, systemClock, type Clock, type Settings } from '../core/index.js'
import { openJournal, recordEvent } from '../journal/index.js'
import type { FlagBackend, FlagListing, FlagView } from './backend.js'
import { scanCodeDirectories, type CodeScan } from './code-files.js'
import type { FlagChange } from './edit.js'
import { fileFlagBackend } from './file-backend.js'
import { FLAGS_FILE_NAME } from './load.js'
import { findStaleFlags, type StaleFinding } from './stale.js'
import { unleashAdminBackend } from './unleash-admin.js'

export interface FlagCommandOptions {
  settings: Settings
  /** --file: flags.yaml (default: flags.yaml beside opsctl.yaml). Given explicitly, it wins over UNLEASH_URL. */
  file?: string | undefined
  /** For UNLEASH_URL, UNLEASH_API_TOKEN, UNLEASH_PROJECT (default: process.env). */
  env?: NodeJS.ProcessEnv
  /** Where changes are recorded (default: the ops journal of the settings). */
  recorder?: FlagChangeRecorder
  clock?: Clock
}

/** `.opsctl/flags/`: what flags serve keeps between runs. */
export function flagStatePaths(stateDir: string): { dir: string; metrics: string; tokens: string } {
  const dir = join(stateDir, 'flags')
  return { dir, metrics: join(dir, 'metrics.json'), tokens: join(dir, 'tokens.json') }
}

export function flagsFilePath(settings: Settings, file?: string): string {
  return resolve(settings.rootDir, file ?? settings.config.flags?.file ?? FLAGS_FILE_NAME)
}

export function openFlagBackend(options: FlagCommandOptions): FlagBackend {
  const env = options.env ?? process.env
  const url = env.UNLEASH_URL?.trim()
  if (url && options.file === undefined) {
    const token = env.UNLEASH_API_TOKEN?.trim()
    if (!token) throw badInput('UNLEASH_URL is set but UNLEASH_API_TOKEN is not', 'Set UNLEASH_API_TOKEN to an admin API token, or unset UNLEASH_URL to use flags.yaml.')
    return unleashAdminBackend({ url, token, project: env.UNLEASH_PROJECT?.trim() || 'default' })
  }
  return fileFlagBackend({ file: flagsFilePath(options.settings, options.file), metricsFile: flagStatePaths(options.settings.stateDir).metrics, rootDir: options.settings.rootDir })
}

export async function listFlags(options: FlagCommandOptions): Promise<FlagListing> {
  return openFlagBackend(options).list()
}

export async function showFlag(options: FlagCommandOptions, name: string): Promise<FlagView & { source: string }> {
  const backend = openFlagBackend(options)
  return { source: backend.source, ...(await backend.get(name)) }
}

// --- changes and the journal ----------------------------------------------------------------

export type FlagAction =
  | { action: 'enable' | 'disable'; name: string; environment: string; reason?: string | undefined }
  | { action: 'rollout'; name: string; environment: string; percent: number; reason?: string | undefined }
  | { action: 'kill'; name: string; reason: string }

export interface RecordedChange extends FlagChange {
  source: string
  reason?: string | undefined
  /** Id of the journal event, when one was written. */
  eventId?: string | undefined
}

/** Something that keeps a record of flag changes: the ops journal, or a test's list. */
export interface FlagChangeRecorder {
  record(change: RecordedChange): Promise<string | undefined>
  close(): Promise<void>
}

/** The ops journal as a recorder: one `flag.changed` event per change, with who, what, before, after and why. */
export async function openJournalRecorder(settings: Settings): Promise<FlagChangeRecorder> {
  const store = await openJournal(settings)
  return {
    async record(change) {
      const event = await recordEvent(store, {
        kind: 'flag.changed',
        subject: change.flag,
        data: {
          flag: change.flag,
          change: change.change,
          ...(change.environment ? { environment: change.environment } : {}),
          from: change.from,
          to: change.to,
          ...(change.reason ? { reason: change.reason } : {}),
          source: change.source,
          ...(change.changed ? {} : { unchanged: true }),
        },
      })
      return event.id
    },
    close: () => store.close(),
  }
}

/** `flags enable` and `flags disable`: one environment's switch, from the command's name argument and flags. */
export function switchFlag(
  settings: Settings,
  action: 'enable' | 'disable',
  name: string,
  flags: { env: string; reason?: string | undefined; file?: string | undefined },
): Promise<RecordedChange> {
  return changeFlag({ settings, file: flags.file }, { action, name, environment: flags.env, reason: flags.reason })
}

/**
 * One change: the journal is opened first (so a journal that cannot be written stops the change
 * before it is made), then the flag is changed, then the event is written. A kill is recorded
 * even when the flag was already off: the mitigation was an act at that time.
 */
export async function changeFlag(options: FlagCommandOptions, request: FlagAction): Promise<RecordedChange> {
  const backend = openFlagBackend(options)
  const recorder = options.recorder ?? (await openJournalRecorder(options.settings))
  try {
    let change: FlagChange
    switch (request.action) {
      case 'enable':
      case 'disable':
        change = await backend.setEnabled(request.name, request.environment, request.action === 'enable')
        break
      case 'rollout':
        change = await backend.setRollout(request.name, request.environment, request.percent)
        break
      case 'kill':
        if (!request.reason.trim()) throw badInput('A kill needs a reason', 'Say why with --reason "..." (it goes into the journal and the post-mortem).')
        change = await backend.kill(request.name)
        break
    }
    const recorded: RecordedChange = { ...change, source: backend.source, ...(request.reason ? { reason: request.reason } : {}) }
    if (change.changed || request.action === 'kill') {
      try {
        recorded.eventId = await recorder.record(recorded)
      } catch (error) {
        throw environmentError(
          `${request.name} was changed (${describeChange(recorded)}) but the journal event could not be written: ${(error as Error).message}`,
          'Record it by hand with opsctl journal append --kind flag.changed.',
          error,
        )
      }
    }
    return recorded
  } finally {
    if (!options.recorder) await recorder.close()
  }
}

export function describeChange(change: FlagChange): string {
  const where = change.environment ? ` in ${change.environment}` : ''
  switch (change.change) {
    case 'enabled':
    case 'disabled':
      return `${change.change}${where}`
    case 'rollout':
      return `rollout${where} ${change.from === null || change.from === undefined ? '-' : `${String(change.from)}%`} -> ${String(change.to)}%`
    case 'killed':
      return 'off in every environment'
  }
}

// --- stale flags ----------------------------------------------------------------------------

export interface StaleOptions {
  /** Directories to scan for SDK calls (default: the project root). Empty: no scan. */
  codeDirs?: string[] | undefined
}

export interface StaleResult {
  source: string
  flags: number
  findings: StaleFinding[]
  skipped: string[]
  scan?: Pick<CodeScan, 'files' | 'skipped' | 'unresolved'> & { references: number }
}

export async function findStale(options: FlagCommandOptions, stale: StaleOptions = {}): Promise<StaleResult> {
  const backend = openFlagBackend(options)
  const listing = await backend.list()
  const directories = (stale.codeDirs ?? [options.settings.rootDir]).map((dir) => resolve(options.settings.rootDir, dir))
  const scan = directories.length ? await scanCodeDirectories(directories, options.settings.rootDir) : undefined
  const report = findStaleFlags({
    flags: listing.flags.map((flag) => ({
      name: flag.name,
      type: flag.type,
      createdAt: flag.createdAt,
      evaluations: flag.evaluations ? flag.evaluations.yes + flag.evaluations.no : undefined,
      lastSeenAt: flag.evaluations?.lastSeenAt,
    })),
    references: scan?.references,
    evaluationsKnown: listing.evaluationsKnown,
    now: (options.clock ?? systemClock).now(),
  })
  if (scan && scan.unresolved > 0) report.skipped.push(`${scan.unresolved} SDK call${scan.unresolved === 1 ? '' : 's'} with a flag name computed at run time (not checked)`)
  return {
    source: listing.source,
    flags: listing.flags.length,
    findings: report.findings,
    skipped: report.skipped,
    ...(scan ? { scan: { files: scan.files, skipped: scan.skipped, unresolved: scan.unresolved, references: scan.references.length } } : {}),
  }
}
