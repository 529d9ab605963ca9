/** Human output of the flags commands. Strings only; the commands print them. */
import { formatLocalTime, renderTable, type Palette } from '../core/index.js'
import type { EnvironmentView, FlagListing, FlagView } from './backend.js'
import { describeChange, type ImportSummary, type RecordedChange, type StaleResult, type ValidationResult } from './flag-service.js'
import type { PushResult } from './unleash-admin.js'
import type { FlagServer, FlagServerOptions, ReloadEvent } from './server.js'

export function renderFlagList(listing: FlagListing, colors: Palette): string {
  if (listing.flags.length === 0) return `No flags in ${listing.source}.`
  const table = renderTable(listing.flags, [
    { header: 'FLAG', value: (flag) => flag.name },
    { header: 'TYPE', value: (flag) => flag.type },
    ...listing.environments.map((environment) => ({
      header: environment.toUpperCase(),
      value: (flag: FlagView) =>
        environmentState(
          flag.environments.find((item) => item.name === environment),
          colors,
        ),
    })),
    {
      header: 'EVALUATED (yes/no)',
      value: (flag) => (flag.evaluations ? `${flag.evaluations.yes}/${flag.evaluations.no}` : colors.dim('never')),
    },
    { header: 'LAST SEEN', value: (flag) => (flag.evaluations?.lastSeenAt ? localTime(flag.evaluations.lastSeenAt) : '-') },
    { header: 'OWNER', value: (flag) => flag.owner ?? '-' },
  ])
  const note = listing.evaluationsKnown
    ? ''
    : `\n${colors.dim('No SDK has reported evaluations yet: counts appear once SDKs use flags serve (or Unleash).')}`
  return `${colors.dim(listing.source)}\n${table}${note}`
}

function environmentState(environment: EnvironmentView | undefined, colors: Palette): string {
  if (!environment?.enabled) return colors.dim('off')
  if (environment.rollout === undefined) return colors.green('on (targeted)')
  return colors.green(environment.rollout === 100 ? 'on' : `on ${environment.rollout}%`)
}

export function renderFlag(flag: FlagView & { source: string }, colors: Palette): string {
  const lines = [
    `${colors.bold(flag.name)}  ${colors.dim(flag.type)}`,
    flag.description,
    `owner: ${flag.owner ?? '-'}   created: ${flag.createdAt ? flag.createdAt.slice(0, 10) : '-'}   source: ${flag.source}`,
    flag.evaluations
      ? `evaluated: ${flag.evaluations.yes} yes / ${flag.evaluations.no} no${flag.evaluations.lastSeenAt ? `, last ${localTime(flag.evaluations.lastSeenAt)}` : ''}`
      : 'evaluated: never (no SDK has reported it)',
    '',
  ]
  for (const environment of flag.environments) {
    lines.push(
      `${colors.bold(environment.name)}: ${environment.enabled ? colors.green('on') : colors.dim('off')}${environment.evaluations ? colors.dim(`  (${environment.evaluations.yes} yes / ${environment.evaluations.no} no)`) : ''}`,
    )
    for (const strategy of environment.strategies) lines.push(`  - ${strategy.name}: ${strategy.summary}`)
    if (environment.variants.length)
      lines.push(`  variants: ${environment.variants.map((variant) => `${variant.name} ${variant.weightPercent}%`).join(', ')}`)
  }
  return lines.join('\n')
}

export function renderChange(change: RecordedChange, colors: Palette): string {
  const head = change.changed
    ? `${colors.bold(change.flag)}: ${describeChange(change)}`
    : `${colors.bold(change.flag)}: no change (${describeChange(change)} already)`
  const lines = [head, colors.dim(`source: ${change.source}${change.eventId ? `   journal: ${change.eventId}` : ''}`)]
  for (const note of change.notes) lines.push(colors.yellow(`note: ${note}`))
  return lines.join('\n')
}

export function renderStale(result: StaleResult, colors: Palette): string {
  const lines: string[] = []
  if (result.findings.length === 0) lines.push(colors.green(`No stale flags among the ${result.flags} in ${result.source}.`))
  else {
    lines.push(`${result.findings.length} finding${result.findings.length === 1 ? '' : 's'} in ${result.source}:`)
    lines.push(
      renderTable(result.findings, [
        { header: 'FLAG', value: (finding) => finding.flag },
        { header: 'RULE', value: (finding) => finding.rule },
        { header: 'WHY', value: (finding) => finding.message },
      ]),
    )
  }
  if (result.scan)
    lines.push(
      colors.dim(
        `scanned ${result.scan.files} source files: ${result.scan.references} flag references${result.scan.skipped.large ? `, ${result.scan.skipped.large} files over 1 MB skipped` : ''}`,
      ),
    )
  for (const skipped of result.skipped) lines.push(colors.dim(`not checked: ${skipped}`))
  return lines.join('\n')
}

export interface ServeSummary {
  url: string
  port: number
  file: string
  environments: string[]
  /** What flags.yaml says that is valid but probably not meant (flags validate lists them too). */
  notices: string[]
  tokensFile?: string | undefined
  /** Only with --show-tokens: tokens are secrets. */
  tokens?: FlagServer['tokens'] | undefined
}

export function renderServeStarted(summary: ServeSummary, colors: Palette): string {
  const lines = [
    `Serving ${summary.file} on ${colors.bold(summary.url)} (Unleash client and frontend API), environments: ${summary.environments.join(', ')}`,
    `SDKs: url ${summary.url}, Authorization: the environment's client token (browser SDKs: ${summary.url}/frontend with a frontend token).`,
  ]
  if (summary.tokens) {
    for (const environment of summary.environments) {
      lines.push(
        `  ${environment}: client ${summary.tokens.client[environment] ?? '-'}  frontend ${summary.tokens.frontend[environment] ?? '-'}`,
      )
    }
  } else if (summary.tokensFile) {
    lines.push(`Tokens: ${summary.tokensFile} (or run with --show-tokens).`)
  }
  lines.push(colors.dim('Edits to the file are picked up at once; an invalid edit keeps the last good flags. Ctrl-C stops.'))
  return lines.join('\n')
}

function localTime(iso: string): string {
  return formatLocalTime(iso)
}

/** What `flags serve` says it is serving: from the running server and the options it was started with. */
export function serveSummary(server: FlagServer, options: FlagServerOptions, showTokens = false): ServeSummary {
  return {
    url: server.url,
    port: server.port,
    file: options.file,
    environments: server.environments(),
    notices: server.notices(),
    tokensFile: options.tokensFile,
    ...(showTokens ? { tokens: server.tokens } : {}),
  }
}

export function renderReload(event: ReloadEvent): string {
  if (!event.ok) return `Kept the last good flags: ${event.error?.message ?? 'the file could not be read'}`
  const notices = event.notices?.length ? `\n${event.notices.map((notice) => `notice: ${notice}`).join('\n')}` : ''
  return `Reloaded ${event.file}: ${event.flags} flag${event.flags === 1 ? '' : 's'}.${notices}`
}

/** A reload as one JSON line, for flags serve --json. */
export function reloadRecord(event: ReloadEvent): Record<string, unknown> {
  return {
    event: 'reload',
    ok: event.ok,
    changed: event.changed,
    file: event.file,
    flags: event.flags,
    ...(event.notices?.length ? { notices: event.notices } : {}),
    ...(event.error ? { error: event.error.toJSON() } : {}),
  }
}

export function renderValidation(result: ValidationResult, colors: Palette): string {
  const lines = [
    `${result.file} is valid: ${result.flags} flag${result.flags === 1 ? '' : 's'}${result.segments ? `, ${result.segments} segment${result.segments === 1 ? '' : 's'}` : ''}, environments ${result.environments.join(', ')}.`,
  ]
  for (const notice of result.notices) lines.push(colors.yellow(`notice: ${notice}`))
  return lines.join('\n')
}

export function renderImport(result: ImportSummary, colors: Palette): string {
  const lines = [
    `Wrote ${result.output}: ${result.flags.length} flag${result.flags.length === 1 ? '' : 's'}${result.segments.length ? `, ${result.segments.length} segment${result.segments.length === 1 ? '' : 's'}` : ''} (environment ${result.environment}) from ${result.input}.`,
  ]
  for (const note of result.notes) lines.push(colors.dim(`note: ${note}`))
  if (result.skipped.length) {
    lines.push(colors.yellow(`Not imported (flags.yaml cannot express them):`))
    for (const item of result.skipped) lines.push(colors.yellow(`  ${item.name}: ${item.reason}`))
  }
  return lines.join('\n')
}

export function renderPush(result: PushResult & { file: string }, colors: Palette): string {
  const created = result.flags.filter((flag) => flag.created).length
  const lines = [
    `Pushed ${result.file} to ${result.target}: ${result.flags.length} flag${result.flags.length === 1 ? '' : 's'} (${created} created), ${result.segments.length} segment${result.segments.length === 1 ? '' : 's'}, environments ${result.environments.join(', ')}.`,
  ]
  for (const note of result.notes) lines.push(colors.dim(`note: ${note}`))
  return lines.join('\n')
}
