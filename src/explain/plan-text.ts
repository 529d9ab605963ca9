/**
 * PostgreSQL's text EXPLAIN format, parsed into the JSON format's shape (same keys), so that one
 * model builder serves both. The tree comes from the indentation of the "->" arrows; details come
 * from "(cost=... rows=... width=...) (actual time=... rows=... loops=...)" and the property lines
 * under each node. Lines it does not understand are counted, not dropped silently.
 */
import type { JsonObject, JsonValue } from '../core/index.js'

export interface ParsedTextPlan {
  root: JsonObject
  skipped: { lines: number; reasons: Record<string, number> }
}

export class TextPlanError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`)
    this.name = 'TextPlanError'
  }
}

interface OpenNode {
  node: JsonObject
  arrowColumn: number
  children: number
}

interface Context {
  indent: number
  target: JsonObject
}

const NUMBER = String.raw`-?\d+(?:\.\d+)?`
const COSTS = new RegExp(String.raw`\(cost=(${NUMBER})\.\.(${NUMBER}) rows=(${NUMBER}) width=(\d+)\)`)
const ACTUAL = new RegExp(String.raw`\(actual (?:time=(${NUMBER})\.\.(${NUMBER}) )?rows=(${NUMBER}) loops=(\d+)\)`)
const NEVER = /\(never executed\)/

/** True when the text looks like a text-format plan (a node with costs or actual times). */
export function looksLikeTextPlan(text: string): boolean {
  return (
    COSTS.test(text) ||
    ACTUAL.test(text) ||
    /^\s*(->\s+)?(Seq Scan|Index Scan|Result|Limit|Sort|Aggregate|Nested Loop|Hash Join)\b/m.test(text)
  )
}

export function parseTextPlan(text: string): ParsedTextPlan {
  const skipped = { lines: 0, reasons: {} as Record<string, number> }
  const skip = (reason: string) => {
    skipped.lines++
    skipped.reasons[reason] = (skipped.reasons[reason] ?? 0) + 1
  }
  const root: JsonObject = {}
  const stack: OpenNode[] = []
  let contexts: Context[] = []
  let rootIndent = -1
  let pendingSubplan: { relationship: string; name: string; indent: number } | null = null

  const lines = text.split(/\r?\n/)
  lines.forEach((rawLine, index) => {
    // psql marks wrapped lines with a trailing "+" (tested first: the regex alone backtracks on indentation).
    const line = (rawLine.endsWith('+') ? rawLine.slice(0, -1).trimEnd() : rawLine).replace(/\t/g, '    ')
    const content = line.trim()
    if (content === '' || /^QUERY PLAN$/.test(content) || /^-+$/.test(content) || /^\(\d+ rows?\)$/.test(content)) return
    const indent = line.length - line.trimStart().length

    const isArrow = content.startsWith('->')
    if (rootIndent === -1) {
      if (isArrow) throw new TextPlanError('a child node ("->") before the plan\'s first node', index + 1, indent + 1)
      if (/^[\w ]+:/.test(content) && !COSTS.test(content) && !ACTUAL.test(content)) {
        skip('text before the plan')
        return
      }
      rootIndent = indent
      const node = parseNodeLine(content)
      root.Plan = node
      stack.push({ node, arrowColumn: indent - 1, children: 0 })
      return
    }

    if (isArrow) {
      while (stack.length > 1 && stack[stack.length - 1]!.arrowColumn >= indent) stack.pop()
      const parent = stack[stack.length - 1]!
      contexts = []
      const node = parseNodeLine(content.replace(/^->\s*/, ''))
      if (pendingSubplan && indent > pendingSubplan.indent) {
        node['Parent Relationship'] = pendingSubplan.relationship
        node['Subplan Name'] = pendingSubplan.name
      } else {
        node['Parent Relationship'] = parent.children === 0 ? 'Outer' : parent.children === 1 ? 'Inner' : 'Member'
        parent.children++
      }
      pendingSubplan = null
      reorderFirst(node, 'Node Type')
      const plans = (parent.node.Plans ??= []) as JsonValue[]
      plans.push(node)
      stack.push({ node, arrowColumn: indent, children: 0 })
      return
    }

    // A property line: of the top level, of a node, or of a group (worker, JIT, Planning) above it.
    contexts = contexts.filter((context) => context.indent < indent)
    let target: JsonObject
    if (contexts.length > 0) {
      target = contexts[contexts.length - 1]!.target
    } else if (indent <= rootIndent) {
      target = root
    } else {
      while (stack.length > 1 && stack[stack.length - 1]!.arrowColumn >= indent) stack.pop()
      target = stack[stack.length - 1]!.node
    }

    const subplan = /^(InitPlan|SubPlan|CTE)\b\s*(.*)$/.exec(content)
    if (subplan && target !== root && !content.includes(':')) {
      pendingSubplan = { relationship: subplan[1] === 'SubPlan' ? 'SubPlan' : 'InitPlan', name: content, indent }
      return
    }
    const worker = /^Worker (\d+):\s*(.*)$/.exec(content)
    if (worker) {
      const entry: JsonObject = { 'Worker Number': Number(worker[1]) }
      const workers = (target.Workers ??= []) as JsonValue[]
      const existing = workers.find((item) => isObject(item) && item['Worker Number'] === entry['Worker Number'])
      const workerObject = existing && isObject(existing) ? existing : entry
      if (!existing) workers.push(workerObject)
      const rest = worker[2]!
      if (ACTUAL.test(`(${rest})`)) Object.assign(workerObject, actualDetails(`(${rest})`))
      else if (rest !== '' && !applyProperty(workerObject, rest)) skip('unrecognized worker detail')
      contexts.push({ indent, target: workerObject })
      return
    }
    const group = /^(JIT|Planning|Execution):$/.exec(content)
    if (group) {
      const object: JsonObject = {}
      target[group[1]!] = object
      contexts.push({ indent, target: object })
      return
    }
    if (!applyProperty(target, content, target === root)) skip('not a "Key: value" line')
  })

  if (!isObject(root.Plan)) throw new TextPlanError('no plan node found', 1, 1)
  return { root, skipped }
}

function parseNodeLine(content: string): JsonObject {
  const node: JsonObject = {}
  const costs = COSTS.exec(content)
  const actual = ACTUAL.exec(content)
  const firstParen = [costs?.index, actual?.index, NEVER.exec(content)?.index].filter((at): at is number => at !== undefined)
  const description = (firstParen.length > 0 ? content.slice(0, Math.min(...firstParen)) : content).trim()
  Object.assign(node, describeToFields(description))
  if (costs) {
    node['Startup Cost'] = Number(costs[1])
    node['Total Cost'] = Number(costs[2])
    node['Plan Rows'] = Number(costs[3])
    node['Plan Width'] = Number(costs[4])
  }
  if (actual) Object.assign(node, actualDetails(content))
  else if (NEVER.test(content)) {
    node['Actual Rows'] = 0
    node['Actual Loops'] = 0
  }
  return node
}

function actualDetails(text: string): JsonObject {
  const match = ACTUAL.exec(text)
  if (!match) return {}
  const out: JsonObject = {}
  if (match[1] !== undefined) out['Actual Startup Time'] = Number(match[1])
  if (match[2] !== undefined) out['Actual Total Time'] = Number(match[2])
  out['Actual Rows'] = Number(match[3])
  out['Actual Loops'] = Number(match[4])
  return out
}

const JOIN_TYPES = '(Left|Right|Full|Semi|Anti|Right Semi|Right Anti)'
const AGGREGATES: Record<string, string> = {
  Aggregate: 'Plain',
  GroupAggregate: 'Sorted',
  HashAggregate: 'Hashed',
  MixedAggregate: 'Mixed',
}

/** "Parallel Index Scan Backward using items_pkey on public.items i" -> the JSON format's fields. */
export function describeToFields(description: string): JsonObject {
  const fields: JsonObject = {}
  let text = description
  if (text.startsWith('Parallel ')) {
    fields['Parallel Aware'] = true
    text = text.slice('Parallel '.length)
  } else {
    fields['Parallel Aware'] = false
  }
  const relation = (name: string, alias: string | undefined) => {
    const dot = name.lastIndexOf('.')
    const schema = dot > 0 && !name.startsWith('"') ? name.slice(0, dot) : undefined
    const relationName = schema ? name.slice(dot + 1) : name
    fields['Relation Name'] = relationName
    if (schema) fields.Schema = schema
    fields.Alias = alias ?? relationName
  }
  let match: RegExpExecArray | null
  if ((match = /^(Index Scan|Index Only Scan)( Backward)? using (\S+) on (\S+)(?: (\S+))?$/.exec(text))) {
    fields['Node Type'] = match[1]!
    fields['Scan Direction'] = match[2] ? 'Backward' : 'Forward'
    fields['Index Name'] = match[3]!
    relation(match[4]!, match[5])
  } else if ((match = /^Bitmap Index Scan on (\S+)$/.exec(text))) {
    fields['Node Type'] = 'Bitmap Index Scan'
    fields['Index Name'] = match[1]!
  } else if (
    (match =
      /^(Seq Scan|Sample Scan|Tid Scan|Tid Range Scan|Bitmap Heap Scan|Foreign Scan|Custom Scan \([^)]*\)) on (\S+)(?: (\S+))?$/.exec(text))
  ) {
    fields['Node Type'] = match[1]!.startsWith('Custom Scan') ? 'Custom Scan' : match[1]!
    relation(match[2]!, match[3])
  } else if ((match = /^(CTE Scan|WorkTable Scan|Named Tuplestore Scan) on (\S+)(?: (\S+))?$/.exec(text))) {
    fields['Node Type'] = match[1]!
    fields['CTE Name'] = match[2]!
    fields.Alias = match[3] ?? match[2]!
  } else if ((match = /^(Function Scan|Table Function Scan) on (\S+)(?: (\S+))?$/.exec(text))) {
    fields['Node Type'] = match[1]!
    fields['Function Name'] = match[2]!
    fields.Alias = match[3] ?? match[2]!
  } else if ((match = /^(Subquery Scan|Values Scan) on (.+)$/.exec(text))) {
    fields['Node Type'] = match[1]!
    fields.Alias = match[2]!
  } else if ((match = /^(Insert|Update|Delete|Merge) on (\S+)(?: (\S+))?$/.exec(text))) {
    fields['Node Type'] = 'ModifyTable'
    fields.Operation = match[1]!
    relation(match[2]!, match[3])
  } else if ((match = new RegExp(`^(Hash|Merge)(?: ${JOIN_TYPES})? Join$`).exec(text))) {
    fields['Node Type'] = `${match[1]} Join`
    fields['Join Type'] = match[2] ?? 'Inner'
  } else if ((match = new RegExp(`^Nested Loop(?: ${JOIN_TYPES} Join)?$`).exec(text))) {
    fields['Node Type'] = 'Nested Loop'
    fields['Join Type'] = match[1] ?? 'Inner'
  } else if ((match = /^(Partial |Finalize )?(Aggregate|GroupAggregate|HashAggregate|MixedAggregate)$/.exec(text))) {
    fields['Node Type'] = 'Aggregate'
    fields.Strategy = AGGREGATES[match[2]!]!
    fields['Partial Mode'] = match[1] ? match[1].trim() : 'Simple'
  } else if (text === 'HashSetOp' || text === 'SetOp') {
    fields['Node Type'] = 'SetOp'
    fields.Strategy = text === 'HashSetOp' ? 'Hashed' : 'Sorted'
  } else {
    fields['Node Type'] = text
  }
  return fields
}

const SIZE_KB = /^(\d+(?:\.\d+)?)kB$/

/** One property line into the JSON format's keys. Returns false when the line is not "Key: value". */
function applyProperty(target: JsonObject, content: string, topLevel = false): boolean {
  const colon = content.indexOf(': ')
  const key = colon === -1 ? content.replace(/:$/, '') : content.slice(0, colon)
  const value = colon === -1 ? '' : content.slice(colon + 2).trim()
  if (colon === -1 && !content.endsWith(':')) return false
  if (!/^[A-Za-z][\w /&()-]*$/.test(key)) return false

  switch (key) {
    case 'Buffers':
      Object.assign(target, parseBuffers(value))
      return true
    case 'I/O Timings':
      Object.assign(target, parseIoTimings(value))
      return true
    case 'Sort Method': {
      const match = /^(.*?)\s+(Memory|Disk): (\d+)kB$/.exec(value)
      target['Sort Method'] = match ? match[1]! : value
      if (match) {
        target['Sort Space Used'] = Number(match[3])
        target['Sort Space Type'] = match[2]!
      }
      return true
    }
    case 'Buckets': {
      const match = /^(\d+)(?: \(originally (\d+)\))?\s+Batches: (\d+)(?: \(originally (\d+)\))?\s+Memory Usage: (\d+)kB/.exec(value)
      if (!match) break
      target['Hash Buckets'] = Number(match[1])
      target['Original Hash Buckets'] = Number(match[2] ?? match[1])
      target['Hash Batches'] = Number(match[3])
      target['Original Hash Batches'] = Number(match[4] ?? match[3])
      target['Peak Memory Usage'] = Number(match[5])
      return true
    }
    case 'Batches': {
      const pairs = parsePairs(content)
      target['HashAgg Batches'] = Number(pairs.Batches ?? 0)
      target['Peak Memory Usage'] = kilobytes(pairs['Memory Usage'])
      target['Disk Usage'] = kilobytes(pairs['Disk Usage'])
      return true
    }
    case 'Hits': {
      const pairs = parsePairs(content)
      for (const name of ['Hits', 'Misses', 'Evictions', 'Overflows'])
        if (pairs[name] !== undefined) target[`Cache ${name}`] = Number(pairs[name])
      if (pairs['Memory Usage'] !== undefined) target['Peak Memory Usage'] = kilobytes(pairs['Memory Usage'])
      return true
    }
    case 'Heap Blocks': {
      const exact = /exact=(\d+)/.exec(value)
      const lossy = /lossy=(\d+)/.exec(value)
      target['Exact Heap Blocks'] = exact ? Number(exact[1]) : 0
      target['Lossy Heap Blocks'] = lossy ? Number(lossy[1]) : 0
      return true
    }
    case 'Settings':
      target.Settings = Object.fromEntries(
        splitTopLevel(value).map((pair) => {
          const [name, ...rest] = pair.split(' = ')
          return [
            name!.trim(),
            rest
              .join(' = ')
              .trim()
              .replace(/^'(.*)'$/, '$1'),
          ]
        }),
      )
      return true
    case 'Options':
      target.Options = Object.fromEntries(
        splitTopLevel(value).map((pair) => {
          const [name, flag] = pair.trim().split(/\s+/)
          return [name!, flag === 'true']
        }),
      )
      return true
    case 'Timing':
      target.Timing = Object.fromEntries(
        [...value.matchAll(/(\w+) (\d+(?:\.\d+)?) ms/g)]
          .filter((match) => match[1] !== 'Deform')
          .map((match) => [match[1]!, Number(match[2])]),
      )
      return true
    case 'Sort Key':
    case 'Group Key':
    case 'Presorted Key':
    case 'Output':
    case 'Cache Key':
      target[key] = splitTopLevel(value)
      return true
    case 'Planning Time':
    case 'Execution Time':
    case 'Total runtime': {
      const ms = /^(\d+(?:\.\d+)?) ms$/.exec(value)
      if (!ms) break
      target[key === 'Total runtime' ? 'Execution Time' : key] = Number(ms[1])
      return true
    }
  }
  const trigger = /^Trigger (.+): time=(\d+(?:\.\d+)?) calls=(\d+)$/.exec(content)
  if (trigger && topLevel) {
    const triggers = (target.Triggers ??= []) as JsonValue[]
    triggers.push({ 'Trigger Name': trigger[1]!, Time: Number(trigger[2]), Calls: Number(trigger[3]) })
    return true
  }
  target[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value
  return true
}

function parseBuffers(value: string): JsonObject {
  const out: JsonObject = {}
  for (const segment of value.split(',')) {
    const words = segment.trim().split(/\s+/)
    const kind = words[0]
    const prefix = kind === 'shared' ? 'Shared' : kind === 'local' ? 'Local' : kind === 'temp' ? 'Temp' : null
    if (!prefix) continue
    for (const word of words.slice(1)) {
      const [name, count] = word.split('=')
      const label = { hit: 'Hit', read: 'Read', dirtied: 'Dirtied', written: 'Written' }[name ?? '']
      if (label && count !== undefined) out[`${prefix} ${label} Blocks`] = Number(count)
    }
  }
  return out
}

/** "read=1.2 write=0.3" (13-15), "shared/local read=..., temp read=..." (15), "shared read=..., local ..., temp ..." (16+). */
function parseIoTimings(value: string): JsonObject {
  const out: JsonObject = {}
  for (const segment of value.split(',')) {
    const words = segment.trim().split(/\s+/)
    const kind = /=/.test(words[0] ?? '') ? '' : words.shift()
    const prefix = kind === 'temp' ? 'Temp I/O' : kind === 'local' ? 'Local I/O' : kind === 'shared' ? 'Shared I/O' : 'I/O'
    for (const word of words) {
      const [name, amount] = word.split('=')
      if (name === 'read' || name === 'write') out[`${prefix} ${name === 'read' ? 'Read' : 'Write'} Time`] = Number(amount)
    }
  }
  return out
}

/** "Hits: 5  Misses: 2  Memory Usage: 71kB" -> { Hits: '5', Misses: '2', 'Memory Usage': '71kB' } */
function parsePairs(content: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of content.split(/\s{2,}/)) {
    const colon = part.indexOf(': ')
    if (colon > 0) out[part.slice(0, colon)] = part.slice(colon + 2).trim()
  }
  return out
}

function kilobytes(value: string | undefined): number {
  const match = SIZE_KB.exec(value ?? '')
  return match ? Number(match[1]) : 0
}

/** Splits "a, f(b, c), d" at top-level commas only. */
function splitTopLevel(value: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let current = ''
  for (const char of value) {
    if (char === "'") quoted = !quoted
    if (!quoted && (char === '(' || char === '[')) depth++
    if (!quoted && (char === ')' || char === ']')) depth--
    if (char === ',' && depth === 0 && !quoted) {
      parts.push(current.trim())
      current = ''
    } else {
      current += char
    }
  }
  if (current.trim() !== '') parts.push(current.trim())
  return parts
}

function reorderFirst(node: JsonObject, key: string): void {
  const value = node[key]
  if (value === undefined) return
  const entries = Object.entries(node)
  for (const [name] of entries) delete node[name]
  node[key] = value
  for (const [name, item] of entries) if (name !== key) node[name] = item
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
}
