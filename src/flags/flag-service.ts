/**
 * What the `flags` commands call: pick the backend (flags.yaml, or Unleash when UNLEASH_URL and
 * UNLEASH_API_TOKEN are set), make the change, record it in the ops journal.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import {
  JsonSyntaxError,
  badInput,
  environmentError,
  parseJsonText,
  systemClock,
  verdict,
  type Clock,
  type Settings,
  type Verdict,
} from '../core/index.js'
import { openJournal, recordEvent } from '../journal/index.js'
import type { FlagBackend, FlagListing, FlagView } from './backend.js'
import { scanCodeDirectories, type CodeScan } from './code-files.js'
import type { FlagChange } from './edit.js'
import { fileFlagBackend } from './file-backend.js'
import { FLAGS_FILE_NAME, readFlagsFile } from './flags-file.js'
import { writeFileAtomic } from './atomic-file.js'
import { importUnleashData, type ImportResult } from './unleash-import.js'
import { findStaleFlags, type StaleFinding } from './stale.js'
import { pushFlagsToUnleash, unleashAdminBackend, type PushResult } from './unleash-admin.js'
import { flagEvents } from './events.js'

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
    if (!token)
      throw badInput(
        'UNLEASH_URL is set but UNLEASH_API_TOKEN is not',
        'Set UNLEASH_API_TOKEN to an admin API token, or unset UNLEASH_URL to use flags.yaml.',
      )
    return unleashAdminBackend({ url, token, project: env.UNLEASH_PROJECT?.trim() || 'default' })
  }
  return fileFlagBackend({
    file: flagsFilePath(options.settings, options.file),
    metricsFile: flagStatePaths(options.settings.stateDir).metrics,
    rootDir: options.settings.rootDir,
  })
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
        kind: flagEvents.changed.kind,
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
        if (!request.reason.trim())
          throw badInput('A kill needs a reason', 'Say why with --reason "..." (it goes into the journal and the post-mortem).')
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
  /** Fails when there are findings. */
  verdict: Verdict
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
      parents: flag.parents,
    })),
    references: scan?.references,
    evaluationsKnown: listing.evaluationsKnown,
    now: (options.clock ?? systemClock).now(),
  })
  if (scan && scan.unresolved > 0)
    report.skipped.push(
      `${scan.unresolved} SDK call${scan.unresolved === 1 ? '' : 's'} with a flag name computed at run time (not checked)`,
    )
  const staleFlags = new Set(report.findings.map((finding) => finding.flag))
  return {
    source: listing.source,
    flags: listing.flags.length,
    findings: report.findings,
    skipped: report.skipped,
    ...(scan
      ? { scan: { files: scan.files, skipped: scan.skipped, unresolved: scan.unresolved, references: scan.references.length } }
      : {}),
    verdict: staleFlags.size
      ? verdict('fail', [`${staleFlags.size} stale flag${staleFlags.size === 1 ? '' : 's'}: ${[...staleFlags].join(', ')}`], {
          hint: 'Remove flags that have done their job (code first, then flags.yaml), or define what the code asks for.',
        })
      : verdict('pass'),
  }
}

// --- validation, import, push ---------------------------------------------------------------

export interface ValidationResult {
  file: string
  valid: true
  environments: string[]
  flags: number
  segments: number
  /** Valid, but probably not meant (a missing parent or segment, a regex RE2 refuses, a deprecated strategy). */
  notices: string[]
  verdict: Verdict
}

/** `flags validate`: problems are errors (exit 2); notices fail only with strict. */
export function validateFlags(settings: Settings, options: { file?: string | undefined; strict?: boolean } = {}): ValidationResult {
  const loaded = readFlagsFile(flagsFilePath(settings, options.file))
  const notices = loaded.notices
  return {
    file: loaded.file,
    valid: true,
    environments: loaded.flags.environments,
    flags: Object.keys(loaded.flags.flags).length,
    segments: Object.keys(loaded.flags.segments).length,
    notices,
    verdict:
      options.strict && notices.length
        ? verdict('fail', [`${notices.length} notice${notices.length === 1 ? '' : 's'} (--strict)`, ...notices], {
            hint: 'Fix what the notices name, or drop --strict.',
          })
        : verdict('pass'),
  }
}

export interface ImportRequest {
  /** The Unleash data: a client API, delta API or export JSON document. */
  input: string
  /** Where to write flags.yaml (default: the project's flags.yaml). */
  output?: string | undefined
  environment?: string | undefined
  owner?: string | undefined
  /** Replace an existing file. */
  force?: boolean | undefined
}

export interface ImportSummary extends Omit<ImportResult, 'text'> {
  input: string
  output: string
}

/** `flags import`: Unleash's data to flags.yaml, with what flags.yaml cannot say listed, never dropped silently. */
export async function importFlags(settings: Settings, request: ImportRequest, clock: Clock = systemClock): Promise<ImportSummary> {
  const input = resolve(settings.rootDir, request.input)
  const output = flagsFilePath(settings, request.output)
  let text: string
  try {
    text = readFileSync(input, 'utf8')
  } catch (error) {
    throw badInput(`Cannot read ${input}: ${(error as Error).message}`, 'Give the JSON Unleash exported (or served) as the argument.')
  }
  let data: unknown
  try {
    data = parseJsonText(text).value
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw badInput(`${input}: ${error.message}`, 'Give the JSON document as Unleash wrote it.')
    throw error
  }
  if (!request.force && existsSync(output))
    throw badInput(`${output} exists; nothing was written`, 'Give another --output, or --force to replace it.')
  const result = importUnleashData(data, {
    today: clock.now().toISOString().slice(0, 10),
    source: relative(settings.rootDir, input) || input,
    ...(request.environment ? { environment: request.environment } : {}),
    ...(request.owner ? { owner: request.owner } : {}),
  })
  await writeFileAtomic(output, result.text)
  const { text: _text, ...summary } = result
  return { input, output, ...summary }
}

/** `flags push`: flags.yaml onto the Unleash of UNLEASH_URL and UNLEASH_API_TOKEN, through its Admin API. */
export async function pushFlags(options: FlagCommandOptions): Promise<PushResult & { file: string }> {
  const env = options.env ?? process.env
  const url = env.UNLEASH_URL?.trim()
  const token = env.UNLEASH_API_TOKEN?.trim()
  if (!url || !token)
    throw badInput('flags push needs UNLEASH_URL and UNLEASH_API_TOKEN', 'Set them to the Unleash API root and an admin API token.')
  const loaded = readFlagsFile(flagsFilePath(options.settings, options.file))
  const result = await pushFlagsToUnleash(loaded.flags, { url, token, project: env.UNLEASH_PROJECT?.trim() || 'default' })
  return { file: loaded.file, ...result }
}
