/**
 * Changes to flags.yaml that keep its comments and layout. Pure: text in, text out. A change
 * of a value that is already in the file replaces just that scalar's characters; a change that
 * needs new structure (an environment or a strategy not written yet) goes through the yaml
 * Document API, which keeps comments. Either way the result is validated before anyone
 * writes it, so a change can never leave an invalid file behind.
 */
import { isMap, isScalar, isSeq, parseDocument, Scalar, type Document } from 'yaml'
import { badInput, closestKey, type YamlPath } from '../core/index.js'
import { parseFlagsText, type LoadedFlags } from './flags-file.js'
import type { EnvironmentDefinition, FlagDefinition } from './schema.js'

export type FlagChangeKind = 'enabled' | 'disabled' | 'rollout' | 'killed'

/** What a change did, for the journal and for the command's output. */
export interface FlagChange {
  flag: string
  change: FlagChangeKind
  /** Absent for a kill, which is every environment. */
  environment?: string
  from: unknown
  to: unknown
  /** False when the flag was already in the requested state (nothing written). */
  changed: boolean
  /** Things the person should know: "disabled in production: the rollout takes effect once enabled". */
  notes: string[]
}

export interface FileEdit {
  text: string
  change: FlagChange
}

export function planSetEnabled(loaded: LoadedFlags, name: string, environment: string, enabled: boolean): FileEdit {
  const flag = requireFlag(loaded, name)
  requireEnvironment(loaded, environment)
  const before = flag.environments[environment]?.enabled ?? false
  const change: FlagChange = {
    flag: name,
    change: enabled ? 'enabled' : 'disabled',
    environment,
    from: before,
    to: enabled,
    changed: before !== enabled,
    notes: [],
  }
  if (!change.changed) return { text: loaded.text, change }
  const path = ['flags', name, 'environments', environment]
  const text = flag.environments[environment]
    ? applyEdits(loaded, [{ path: [...path, 'enabled'], value: enabled }])
    : restructure(loaded, (document) => document.setIn(path, document.createNode({ enabled })))
  if (enabled && !flag.environments[environment])
    change.notes.push(`${environment} had no configuration: it is now on for everyone there (default strategy)`)
  return { text: validated(loaded, text), change }
}

export function planRollout(loaded: LoadedFlags, name: string, environment: string, percent: number): FileEdit {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100)
    throw badInput(
      `A rollout is a whole percentage from 0% to 100%, not ${percent}%`,
      'For example: opsctl flags rollout NAME 25% --env production',
    )
  const flag = requireFlag(loaded, name)
  requireEnvironment(loaded, environment)
  const config = flag.environments[environment]
  const from = effectiveRollout(config)
  const change: FlagChange = { flag: name, change: 'rollout', environment, from, to: percent, changed: from !== percent, notes: [] }
  if (!config?.enabled) change.notes.push(`${name} is disabled in ${environment}: the rollout takes effect once it is enabled`)
  const rollouts = (config?.strategies ?? [])
    .map((strategy, index) => ({ strategy, index }))
    .filter(({ strategy }) => strategy.name === 'flexibleRollout')
  if (rollouts.length > 1) {
    throw badInput(
      `${name} has ${rollouts.length} flexibleRollout strategies in ${environment}; which one to change is ambiguous`,
      `Edit ${loaded.file} by hand, or keep one flexibleRollout strategy.`,
    )
  }
  const envPath = ['flags', name, 'environments', environment]
  const only = rollouts[0]
  if (only && only.strategy.name === 'flexibleRollout' && only.strategy.rollout === percent)
    return { text: loaded.text, change: { ...change, changed: false } }
  change.changed = true
  let text: string
  if (only) {
    text = applyEdits(loaded, [{ path: [...envPath, 'strategies', only.index, 'rollout'], value: percent }])
  } else {
    // No rollout yet: it replaces the default strategy (which is 100%), next to any targeted ones.
    const kept = (config?.strategies ?? [])
      .map((strategy, index) => ({ strategy, index }))
      .filter(({ strategy }) => strategy.name !== 'default')
    if (config && config.strategies.length > kept.length)
      change.notes.push(`replaced the default strategy (everyone) with a ${percent}% flexibleRollout`)
    text = restructure(loaded, (document) => {
      const rollout = document.createNode({ name: 'flexibleRollout', rollout: `${percent}%` })
      if (!config) {
        document.setIn(envPath, document.createNode({ enabled: false, strategies: [] }))
        document.addIn([...envPath, 'strategies'], rollout)
        return
      }
      const strategies = document.getIn([...envPath, 'strategies'], true)
      if (!isSeq(strategies)) {
        document.setIn([...envPath, 'strategies'], document.createNode([]))
        document.addIn([...envPath, 'strategies'], rollout)
        return
      }
      for (let index = strategies.items.length - 1; index >= 0; index--) {
        if (!kept.some((entry) => entry.index === index)) strategies.items.splice(index, 1)
      }
      strategies.items.push(rollout)
    })
  }
  return { text: validated(loaded, text), change }
}

/** Off in every environment at once: one write. */
export function planKill(loaded: LoadedFlags, name: string): FileEdit {
  const flag = requireFlag(loaded, name)
  const from = Object.fromEntries(
    loaded.flags.environments.map((environment) => [environment, flag.environments[environment]?.enabled ?? false]),
  )
  const to = Object.fromEntries(loaded.flags.environments.map((environment) => [environment, false]))
  const on = Object.entries(flag.environments).filter(([, config]) => config.enabled)
  const change: FlagChange = { flag: name, change: 'killed', from, to, changed: on.length > 0, notes: childrenNotes(loaded, name) }
  if (on.length === 0) {
    change.notes.push(`${name} was already off in every environment`)
    return { text: loaded.text, change }
  }
  const text = applyEdits(
    loaded,
    on.map(([environment]) => ({ path: ['flags', name, 'environments', environment, 'enabled'], value: false })),
  )
  return { text: validated(loaded, text), change }
}

/** What a kill does to the flags that depend on this one: those that need it on go dark, those that need it off come on. */
export function childrenNotes(loaded: LoadedFlags, name: string): string[] {
  const children = Object.entries(loaded.flags.flags).flatMap(([child, flag]) =>
    flag.dependencies.filter((dependency) => dependency.feature === name).map((dependency) => ({ child, enabled: dependency.enabled })),
  )
  const dark = children.filter((item) => item.enabled).map((item) => item.child)
  const lit = children.filter((item) => !item.enabled).map((item) => item.child)
  return [
    ...(dark.length ? [`${dark.join(', ')} depend${dark.length === 1 ? 's' : ''} on ${name}: off with it`] : []),
    ...(lit.length ? [`${lit.join(', ')} ${lit.length === 1 ? 'is' : 'are'} on only while ${name} is off: now on where enabled`] : []),
  ]
}

/** The share of users a flag reaches in an environment: 100 for the default strategy, null when other strategies decide. */
export function effectiveRollout(config: EnvironmentDefinition | undefined): number | null {
  if (!config) return null
  if (config.strategies.length === 0) return 100
  const rollout = config.strategies.find((strategy) => strategy.name === 'flexibleRollout')
  if (rollout?.name === 'flexibleRollout') return rollout.rollout
  return config.strategies.some((strategy) => strategy.name === 'default') ? 100 : null
}

export function requireFlag(loaded: LoadedFlags, name: string): FlagDefinition {
  const flag = loaded.flags.flags[name]
  if (flag) return flag
  const suggestion = closestKey(name, Object.keys(loaded.flags.flags))
  throw badInput(
    `No flag "${name}" in ${loaded.file}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
    'opsctl flags list shows the flags; add new ones to flags.yaml.',
  )
}

function requireEnvironment(loaded: LoadedFlags, environment: string): void {
  if (loaded.flags.environments.includes(environment)) return
  throw badInput(
    `Unknown environment "${environment}" (${loaded.file} declares ${loaded.flags.environments.join(', ')})`,
    'Give one of those with --env, or add the environment to the top-level environments list.',
  )
}

// --- text surgery ---------------------------------------------------------------------------

interface ScalarEdit {
  path: YamlPath
  value: boolean | number
}

/** Replaces the characters of existing scalars, from the end of the file backwards. */
function applyEdits(loaded: LoadedFlags, edits: readonly ScalarEdit[]): string {
  const replacements = edits.map((edit) => {
    const node = loaded.located.document.getIn(edit.path, true)
    if (!isScalar(node) || !node.range) throw new Error(`flags edit: no scalar at ${edit.path.join('.')}`)
    return { start: node.range[0], end: node.range[1], text: renderLike(node, edit.value) }
  })
  let text = loaded.text
  for (const { start, end, text: replacement } of replacements.sort((a, b) => b.start - a.start)) {
    text = text.slice(0, start) + replacement + text.slice(end)
  }
  return text
}

/** The new value written the way the old one was: `25%` stays a percentage, quotes stay quotes. */
function renderLike(node: Scalar, value: boolean | number): string {
  if (typeof value === 'boolean') return String(value)
  const old = node.value
  const percent = typeof old === 'string' && old.trim().endsWith('%')
  const body = percent ? `${value}%` : String(value)
  if (node.type === Scalar.QUOTE_DOUBLE) return `"${body}"`
  if (node.type === Scalar.QUOTE_SINGLE) return `'${body}'`
  return body
}

/** A structural change through the Document API, printed with the file's own indentation. */
function restructure(loaded: LoadedFlags, change: (document: Document) => void): string {
  const document = parseDocument(loaded.text, { keepSourceTokens: false })
  change(document)
  const style = detectStyle(loaded.text)
  return document.toString({ indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0, flowCollectionPadding: style.flowPadding })
}

export function detectStyle(text: string): { indent: number; indentSeq: boolean; flowPadding: boolean } {
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
  let indent: number | undefined
  let indentSeq: boolean | undefined
  for (let i = 0; i + 1 < lines.length && (indent === undefined || indentSeq === undefined); i++) {
    const line = lines[i]!
    const next = lines[i + 1]!
    if (!/:\s*$/.test(line)) continue
    const own = line.length - line.trimStart().length
    const child = next.length - next.trimStart().length
    if (next.trimStart().startsWith('- ')) indentSeq ??= child > own
    else if (child > own) indent ??= child - own
  }
  // `[ a, b ]` or `[a, b]`: whichever the file uses first.
  const flow = /[[{]( ?)[^\s\]}]/.exec(text.replace(/#.*$/gm, ''))
  return { indent: indent ?? 2, indentSeq: indentSeq ?? true, flowPadding: flow ? flow[1] === ' ' : true }
}

function validated(loaded: LoadedFlags, text: string): string {
  parseFlagsText(text, loaded.file)
  return text
}

/** Flags in file order, for listing. */
export function flagNames(loaded: LoadedFlags): string[] {
  const flags = loaded.located.document.get('flags', true)
  if (!isMap(flags)) return Object.keys(loaded.flags.flags)
  return flags.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key))
}
