/**
 * Reading flags.yaml: YAML with positions, then the schema, so that every problem is reported
 * as `flags.yaml:LINE:COL: key.path: what is wrong` (exit 2). parseFlagsText is pure.
 */
import { readFileSync } from 'node:fs'
import { LineCounter, isPair, isScalar, parseDocument, visit } from 'yaml'
import { badInput, describeSchemaIssues, formatKeyPath, isOpsError, locate, parseYamlText, type LocatedYaml } from '../core/index.js'
import { FLAG_NAME_PATTERN, FLAG_NAME_RULE, flagsFileNotices, flagsFileSchema, undeclaredEnvironments, type FlagsFile } from './schema.js'

export const FLAGS_FILE_NAME = 'flags.yaml'
export const FLAGS_HINT = 'Fix flags.yaml at that line; docs/flags.md describes every key, strategy and operator.'

export interface LoadedFlags {
  file: string
  text: string
  flags: FlagsFile
  located: LocatedYaml
  /** `file:line:col: key.path: what` for what is valid but probably not meant (see flagsFileNotices). */
  notices: string[]
}

export function parseFlagsText(text: string, file: string): LoadedFlags {
  refuseDuplicateKeys(text, file)
  const located = parseYamlText(text, file, 'flags file')
  if (located.value !== null && located.value !== undefined && (typeof located.value !== 'object' || Array.isArray(located.value))) {
    throw badInput(`${file}:1:1: flags.yaml must be a mapping with environments and flags`, FLAGS_HINT)
  }
  const flags = validateFlags(located)
  const undeclared = undeclaredEnvironments(flags)
  if (undeclared.length > 0) {
    const lines = undeclared.map(
      ([flag, environment]) =>
        `${locate(located, ['flags', flag, 'environments', environment], 'key')}flags.${flag}.environments.${environment}: unknown environment "${environment}" (declared: ${flags.environments.join(', ')})`,
    )
    throw badInput(lines.join('\n'), 'Fix the name, or add the environment to the top-level environments list.')
  }
  const notices = flagsFileNotices(flags).map((notice) => `${locate(located, notice.path)}${formatKeyPath(notice.path)}: ${notice.message}`)
  return { file, text, flags, located, notices }
}

/**
 * The schema, and flag names checked here so that a bad name is reported at its own line with
 * the rule (a record's key error would point at the flag's first key and say only "invalid key").
 */
function validateFlags(located: LocatedYaml): FlagsFile {
  const value = located.value as { flags?: unknown } | null | undefined
  const flags = value && typeof value.flags === 'object' && value.flags !== null && !Array.isArray(value.flags) ? value.flags : {}
  const badNames = Object.keys(flags)
    .filter((name) => !FLAG_NAME_PATTERN.test(name))
    .map((name) => ({
      text: `${locate(located, ['flags', name], 'key')}flags.${name}: ${JSON.stringify(name)} is not a valid flag name: ${FLAG_NAME_RULE}`,
      line: Number(/:(\d+):\d+: /.exec(locate(located, ['flags', name], 'key'))?.[1] ?? 0),
    }))
  const result = flagsFileSchema.safeParse(located.value ?? {})
  if (result.success && badNames.length === 0) return result.data
  const issues = result.success
    ? []
    : describeSchemaIssues(result.error.issues, located, flagsFileSchema, { what: 'flags file', hint: FLAGS_HINT })
  if (badNames.length === 0 && isOpsError(issues)) throw issues
  const lines = [
    ...badNames,
    ...(isOpsError(issues) ? issues.message.split('\n').map((text) => ({ text, line: Number(/:(\d+):\d+: /.exec(text)?.[1] ?? 0) })) : []),
  ].sort((a, b) => a.line - b.line)
  throw badInput(lines.map((line) => line.text).join('\n'), FLAGS_HINT)
}

export function readFlagsFile(file: string): LoadedFlags {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    throw badInput(
      `Cannot read ${file}: ${missing ? 'no such file' : (error as Error).message}`,
      missing ? 'Create flags.yaml (see docs/flags.md), or give its path with --file.' : undefined,
    )
  }
  return parseFlagsText(text, file)
}

/** A flag defined twice is the likeliest duplicate: name it, rather than "map keys must be unique". */
function refuseDuplicateKeys(text: string, file: string): void {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const duplicate = document.errors[0]
  if (duplicate?.code !== 'DUPLICATE_KEY') return
  let keyPath: string[] | undefined
  visit(document, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== duplicate.pos[0]) return undefined
      const parents = ancestors.filter(isPair).map((parent) => String(isScalar(parent.key) ? parent.key.value : '?'))
      keyPath = [...parents, String(pair.key.value)]
      return visit.BREAK
    },
  })
  const { line, col } = lines.linePos(duplicate.pos[0])
  const path = keyPath ?? []
  const what = path.length === 2 && path[0] === 'flags' ? `flag "${path[1]}"` : `key "${path.join('.')}"`
  throw badInput(
    `${file}:${line}:${col}: duplicate ${what}: it is defined more than once`,
    'Keep one definition and merge the other into it.',
  )
}
