/**
 * Reading flags.yaml: YAML with positions, then the schema, so that every problem is reported
 * as `flags.yaml:LINE:COL: key.path: what is wrong` (exit 2). parseFlagsText is pure.
 */
import { readFileSync } from 'node:fs'
import { LineCounter, isPair, isScalar, parseDocument, visit } from 'yaml'
import { badInput, locate, parseYamlText, validateYaml, type LocatedYaml } from '../core/index.js'
import { flagsFileSchema, undeclaredEnvironments, type FlagsFile } from './schema.js'

export const FLAGS_FILE_NAME = 'flags.yaml'
export const FLAGS_HINT = 'Fix flags.yaml at that line; docs/flags.md describes every key, strategy and operator.'

export interface LoadedFlags {
  file: string
  text: string
  flags: FlagsFile
  located: LocatedYaml
}

export function parseFlagsText(text: string, file: string): LoadedFlags {
  refuseDuplicateKeys(text, file)
  const located = parseYamlText(text, file, 'flags file')
  if (located.value !== null && located.value !== undefined && (typeof located.value !== 'object' || Array.isArray(located.value))) {
    throw badInput(`${file}:1:1: flags.yaml must be a mapping with environments and flags`, FLAGS_HINT)
  }
  const flags = validateYaml(located, flagsFileSchema, { what: 'flags file', hint: FLAGS_HINT })
  const undeclared = undeclaredEnvironments(flags)
  if (undeclared.length > 0) {
    const lines = undeclared.map(
      ([flag, environment]) =>
        `${locate(located, ['flags', flag, 'environments', environment], 'key')}flags.${flag}.environments.${environment}: unknown environment "${environment}" (declared: ${flags.environments.join(', ')})`,
    )
    throw badInput(lines.join('\n'), 'Fix the name, or add the environment to the top-level environments list.')
  }
  return { file, text, flags, located }
}

export function readFlagsFile(file: string): LoadedFlags {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    throw badInput(`Cannot read ${file}: ${missing ? 'no such file' : (error as Error).message}`, missing ? 'Create flags.yaml (see docs/flags.md), or give its path with --file.' : undefined)
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
  throw badInput(`${file}:${line}:${col}: duplicate ${what}: it is defined more than once`, 'Keep one definition and merge the other into it.')
}
