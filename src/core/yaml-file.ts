/**
 * YAML files validated against a zod schema, with every error at file:line:col and its key path.
 * The config and the load scenarios share it: duplicate keys and alias bombs are refused, an
 * unknown key names the closest known one.
 */
import { readFileSync } from 'node:fs'
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml'
import type { z } from 'zod'
import { badInput, type OpsError } from './errors.js'

export interface LocatedYaml {
  file: string
  value: unknown
  document: Document
  lines: LineCounter
}

export interface YamlPosition {
  line: number
  col: number
}

export type YamlPath = ReadonlyArray<string | number>

/** Parses YAML text (what: "config file", "scenario") or throws a bad-input error at the first syntax error. */
export function parseYamlText(text: string, file: string, what = 'file'): LocatedYaml {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const first = document.errors[0]
  if (first) {
    const { line, col } = lines.linePos(first.pos[0])
    const reason = first.message.split('\n')[0]
    throw badInput(`${file}:${line}:${col}: invalid YAML: ${reason}`, 'Fix the YAML syntax at that position.')
  }
  let value: unknown
  try {
    value = document.toJS({ maxAliasCount: 100 })
  } catch (error) {
    throw badInput(`${file}: cannot read the ${what}: ${(error as Error).message}`, 'Remove the YAML aliases (*name) that expand it.')
  }
  return { file, value, document, lines }
}

export function readYamlFile(file: string, what = 'file'): LocatedYaml {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw badInput(`Cannot read ${what} ${file}: ${(error as Error).message}`)
  }
  return parseYamlText(text, file, what)
}

/** Where a key (or its value) sits in the document; undefined when the path is not in the file. */
export function positionOf(located: LocatedYaml, path: YamlPath, part: 'key' | 'value' = 'value'): YamlPosition | undefined {
  const node = nodeAt(located, path, part)
  const offset = node?.range?.[0]
  return offset === undefined ? undefined : located.lines.linePos(offset)
}

/** The scalar at a path with the position of its first character of content (after a quote). */
export function scalarAt(
  located: LocatedYaml,
  path: YamlPath,
): { position: YamlPosition; quoted: boolean; multiline: boolean } | undefined {
  const node = nodeAt(located, path, 'value')
  if (!node || !isScalar(node) || !node.range) return undefined
  const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE'
  const multiline = node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL'
  const start = located.lines.linePos(node.range[0])
  return { position: { line: start.line, col: start.col + (quoted ? 1 : 0) }, quoted, multiline }
}

function nodeAt(located: LocatedYaml, path: YamlPath, part: 'key' | 'value'): YamlNode | undefined {
  let node: unknown = located.document.contents
  let keyNode: YamlNode | undefined
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment))
      if (!pair) return undefined
      keyNode = pair.key as YamlNode
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment]
      keyNode = node as YamlNode | undefined
      if (node === undefined) return undefined
    } else {
      return undefined
    }
  }
  return part === 'key' ? keyNode : ((node as YamlNode | null) ?? keyNode)
}

/** `requests[0].path` — the path as users read it. */
export function formatKeyPath(path: YamlPath): string {
  let text = ''
  for (const segment of path) text += typeof segment === 'number' ? `[${segment}]` : text ? `.${segment}` : segment
  return text || '(root)'
}

/**
 * "file:line:col: " at the path, or at its closest ancestor in the file (a missing key is
 * reported where its mapping is); "file: " when not even the root is there.
 */
export function locate(located: LocatedYaml, path: YamlPath, part: 'key' | 'value' = 'value'): string {
  const position = nearestPosition(located, path, part)
  return position ? `${located.file}:${position.line}:${position.col}: ` : `${located.file}: `
}

function nearestPosition(located: LocatedYaml, path: YamlPath, part: 'key' | 'value'): YamlPosition | undefined {
  for (let length = path.length; length >= 0; length--) {
    const position = positionOf(located, path.slice(0, length), length === path.length ? part : 'value')
    if (position) return position
  }
  return undefined
}

export interface SchemaFileOptions {
  /** "scenario", "budget file": used in messages. */
  what: string
  hint?: string
}

/**
 * Validates a located document against a schema. Every issue becomes one line
 * `file:line:col: key.path: message`; unknown keys say which known key was probably meant.
 */
export function validateYaml<S extends z.ZodType>(located: LocatedYaml, schema: S, options: SchemaFileOptions): z.output<S> {
  const result = schema.safeParse(located.value ?? {})
  if (result.success) return result.data
  throw describeSchemaIssues(result.error.issues, located, schema, options)
}

/** One line per issue, in the order they appear in the file. */
export function describeSchemaIssues(
  issues: z.core.$ZodIssue[],
  located: LocatedYaml,
  schema: z.ZodType,
  options: SchemaFileOptions,
): OpsError {
  const lines: Array<{ text: string; position: YamlPosition | undefined }> = []
  for (const issue of issues) {
    const basePath = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)))
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...basePath, key]
        const suggestion = closestKey(key, objectKeysAt(schema, basePath))
        lines.push({
          text: `${locate(located, path, 'key')}unknown key "${formatKeyPath(path)}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          position: nearestPosition(located, path, 'key'),
        })
      }
      continue
    }
    const missing =
      issue.code === 'invalid_type' && positionOf(located, basePath) === undefined && / received undefined$/.test(issue.message)
    const message = missing
      ? `missing (${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')})`
      : issue.message
    lines.push({
      text: `${locate(located, basePath)}${formatKeyPath(basePath)}: ${message}`,
      position: nearestPosition(located, basePath, 'value'),
    })
  }
  const order = (position: YamlPosition | undefined) => (position ? position.line * 1e6 + position.col : Number.MAX_SAFE_INTEGER)
  lines.sort((a, b) => order(a.position) - order(b.position))
  return badInput(lines.map((line) => line.text).join('\n'), options.hint ?? `Check the key names and types of the ${options.what}.`)
}

/** The keys an object schema at a path accepts (through optional, default, arrays and unions). */
export function objectKeysAt(schema: z.ZodType, path: YamlPath): string[] {
  let candidates: z.ZodType[] = [schema]
  for (const segment of path) {
    candidates = candidates.flatMap((candidate) => childSchemas(candidate, segment))
    if (candidates.length === 0) return []
  }
  return [...new Set(candidates.flatMap((candidate) => flattenUnion(candidate).flatMap((inner) => Object.keys(shapeOf(inner) ?? {}))))]
}

function childSchemas(schema: z.ZodType, segment: string | number): z.ZodType[] {
  return flattenUnion(schema).flatMap((inner) => {
    const def = inner._zod.def as { type: string; element?: z.ZodType; valueType?: z.ZodType }
    if (def.type === 'array' && typeof segment === 'number' && def.element) return [def.element]
    if (def.type === 'record' && def.valueType) return [def.valueType]
    const child = shapeOf(inner)?.[String(segment)]
    return child ? [child] : []
  })
}

function flattenUnion(schema: z.ZodType): z.ZodType[] {
  const inner = unwrapSchema(schema)
  const def = inner._zod.def as { type: string; options?: z.ZodType[] }
  return def.type === 'union' && def.options ? def.options.flatMap(flattenUnion) : [inner]
}

function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = schema._zod.def as { type: string; shape?: Record<string, z.ZodType> }
  return def.type === 'object' ? def.shape : undefined
}

/** Through optional, default, nullable and pipes (transforms) to the schema that holds the shape. */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let current = schema
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType }
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType)
      current = def.innerType
    else if (def.type === 'pipe' && def.in) current = def.in
    else return current
  }
}

/** The candidate closest to a misspelled key, if it is close enough to be what was meant. */
export function closestKey(key: string, candidates: string[]): string | undefined {
  let best: { key: string; distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance <= Math.max(2, Math.floor(candidate.length / 3)) && (!best || distance < best.distance))
      best = { key: candidate, distance }
  }
  return best?.key
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
