import { parseSync } from 'libpg-query'
import type { QueryIdentity } from './identity.js'
import type { FixSuggestion } from './types.js'

/**
 * The concrete fix for an N+1: the repeated statement rewritten to fetch every row in one
 * round trip (`col = ANY($1)`), and, when the statement that produced the ids is visible,
 * the two folded into one (`col IN (SELECT id FROM ...)`). Derived from the parse tree of
 * the normalised SQL; edits are spliced into that text so it keeps the author's shape.
 */
export function suggestFix(repeated: QueryIdentity, producer?: QueryIdentity): FixSuggestion {
  const generic: FixSuggestion = {
    summary:
      'Collect the ids first and fetch all rows in one statement (WHERE key = ANY($1)), or join with the statement that produced them.',
  }
  if (!repeated.parsed) return generic
  let stmt: Node | undefined
  try {
    stmt = firstStatement(parseSync(repeated.sql))
  } catch {
    return generic
  }
  if (!stmt) return generic
  if (stmt.InsertStmt) return insertFix(repeated.sql, stmt.InsertStmt as Node) ?? generic
  const body = (stmt.SelectStmt ?? stmt.UpdateStmt ?? stmt.DeleteStmt) as Node | undefined
  if (!body) return generic
  const predicate = batchPredicate(repeated.sql, body.whereClause as Node | undefined)
  if (!predicate) return generic

  const isSelect = Boolean(stmt.SelectStmt)
  const edits = new Splicer(repeated.sql)
  edits.replace(predicate.start, predicate.end, `${predicate.column} = ANY(${predicate.arrayParam})`)
  if (isSelect) addBatchColumn(edits, body, predicate.column)
  const batched = edits.toString()

  const summary = isSelect
    ? `Fetch the rows for all ids in one query: ${predicate.column} = ANY(${predicate.arrayParam}) with the ids as one array, then group them by ${predicate.column} in the application.`
    : stmt.UpdateStmt
      ? `Update all rows in one statement: ${predicate.column} = ANY(${predicate.arrayParam}) when every row gets the same values; otherwise UPDATE ... FROM unnest($1::int[], $2::...[]) AS v(...) joined on ${predicate.column}.`
      : `Delete all rows in one statement: ${predicate.column} = ANY(${predicate.arrayParam}).`

  const joined = producer && isSelect ? joinedForm(repeated.sql, body, predicate, producer) : undefined
  return { summary, batched, ...(joined ? { joined } : {}) }
}

type Node = Record<string, unknown>

function firstStatement(tree: unknown): Node | undefined {
  const stmts = (tree as { stmts?: Array<{ stmt?: Node }> }).stmts
  return stmts?.length === 1 ? stmts[0]?.stmt : undefined
}

interface BatchPredicate {
  column: string
  /** Column name without qualifier, to match the producer's select list. */
  bareColumn: string
  /** `$1` or `$1::int4[]`. */
  arrayParam: string
  /** Byte offsets of the predicate `col = $n` in the statement. */
  start: number
  end: number
}

const COLUMN_TEXT = /^(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*)(?:\.(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*))*/u
const PARAM_TEXT =
  /^\$(\d+)(?:\s*::\s*((?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*)(?:\.(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*))*(?:\s*\(\s*\d+(?:\s*,\s*\d+)*\s*\))?(?:\s*\[\s*\])?))?/u

/** `col = $n` (or `$n = col`) among the top-level AND-ed conditions; an `*id` column wins. */
function batchPredicate(sql: string, where: Node | undefined): BatchPredicate | undefined {
  if (!where) return undefined
  const conjuncts: Node[] = []
  const bool = where.BoolExpr as Node | undefined
  if (bool && bool.boolop === 'AND_EXPR') conjuncts.push(...((bool.args as Node[] | undefined) ?? []))
  else conjuncts.push(where)
  const text = new Splicer(sql)
  const candidates: BatchPredicate[] = []
  for (const conjunct of conjuncts) {
    const expr = conjunct.A_Expr as Node | undefined
    if (!expr || expr.kind !== 'AEXPR_OP' || operatorName(expr) !== '=') continue
    const left = expr.lexpr as Node | undefined
    const right = expr.rexpr as Node | undefined
    const [columnNode, paramNode, columnFirst] =
      isColumn(left) && isParam(right) ? [left!, right!, true] : isColumn(right) && isParam(left) ? [right!, left!, false] : []
    if (!columnNode || !paramNode) continue
    const columnAt = (columnNode.ColumnRef as Node).location as number
    const paramAt = paramLocation(paramNode)
    const column = text.match(columnAt, COLUMN_TEXT)
    const param = text.match(paramAt, PARAM_TEXT)
    if (!column || !param) continue
    const cast = param[2]
    candidates.push({
      column: column[0],
      bareColumn: column[0].split('.').pop()!.replace(/"/g, ''),
      arrayParam: cast ? `$${param[1]}::${cast.replace(/\s*\[\s*\]$/, '')}[]` : `$${param[1]}`,
      start: columnFirst ? columnAt : paramAt,
      end: columnFirst ? paramAt + Buffer.byteLength(param[0]) : columnAt + Buffer.byteLength(column[0]),
    })
  }
  return candidates.find((candidate) => /(^|_)id$/i.test(candidate.bareColumn)) ?? candidates[0]
}

function operatorName(expr: Node): string | undefined {
  const names = expr.name as Array<{ String?: { sval?: string } }> | undefined
  return names?.[names.length - 1]?.String?.sval
}

function isColumn(node: Node | undefined): boolean {
  const ref = node?.ColumnRef as { fields?: Array<Node> } | undefined
  return Boolean(ref?.fields?.every((field) => field.String))
}

function isParam(node: Node | undefined): boolean {
  if (!node) return false
  if (node.ParamRef) return true
  const cast = node.TypeCast as Node | undefined
  return Boolean((cast?.arg as Node | undefined)?.ParamRef)
}

function paramLocation(node: Node): number {
  const ref = (node.ParamRef ?? ((node.TypeCast as Node).arg as Node).ParamRef) as Node
  return ref.location as number
}

/** The batch column must come back with each row (to group by), and order by it first; LIMIT goes. */
function addBatchColumn(edits: Splicer, select: Node, column: string): void {
  const bare = column.split('.').pop()!.replace(/"/g, '')
  const targets = (select.targetList as Node[] | undefined) ?? []
  const selectsIt = targets.some((target) => {
    const ref = ((target.ResTarget as Node | undefined)?.val as Node | undefined)?.ColumnRef as { fields?: Node[] } | undefined
    const last = ref?.fields?.[ref.fields.length - 1]
    return Boolean(last?.A_Star) || (last?.String as { sval?: string } | undefined)?.sval === bare
  })
  const firstTarget = (targets[0]?.ResTarget as Node | undefined)?.location as number | undefined
  if (!selectsIt && firstTarget !== undefined && firstTarget >= 0) edits.insert(firstTarget, `${column}, `)

  const sorts = (select.sortClause as Node[] | undefined) ?? []
  const firstSort = sorts[0]?.SortBy as Node | undefined
  const sortAt = firstSort ? nodeLocation(firstSort.node as Node | undefined) : undefined
  const sortsByIt = firstSort && edits.match(sortAt ?? -1, COLUMN_TEXT)?.[0] === column
  if (sortAt !== undefined && sortAt >= 0 && !sortsByIt) edits.insert(sortAt, `${column}, `)

  const limit = select.limitCount as Node | undefined
  const limitAt = limit ? nodeLocation(limit) : undefined
  if (limitAt !== undefined && limitAt >= 0) {
    const keyword = edits.lastIndexOfWord('limit', limitAt)
    const value = edits.match(limitAt, /^(\$\d+|\d+)/)
    if (keyword >= 0 && value) edits.replace(keyword, limitAt + value[0].length, '', true)
  }
}

function nodeLocation(node: Node | undefined): number | undefined {
  if (!node) return undefined
  const inner = Object.values(node)[0] as Node | undefined
  const location = inner?.location
  return typeof location === 'number' ? location : undefined
}

/** `col IN (SELECT id FROM <producer's FROM and WHERE>)`, when the producer selects a matching id column. */
function joinedForm(sql: string, select: Node, predicate: BatchPredicate, producer: QueryIdentity): string | undefined {
  if (!producer.parsed || producer.kind !== 'select') return undefined
  let producerStmt: Node | undefined
  try {
    producerStmt = firstStatement(parseSync(producer.sql))?.SelectStmt as Node | undefined
  } catch {
    return undefined
  }
  if (!producerStmt || producerStmt.op !== 'SETOP_NONE' || producerStmt.limitCount || producerStmt.distinctClause) return undefined
  const from = (producerStmt.fromClause as Node[] | undefined) ?? []
  const table = (from[0]?.RangeVar as { relname?: string } | undefined)?.relname
  if (from.length !== 1 || !table) return undefined
  const names = ((producerStmt.targetList as Node[] | undefined) ?? []).map((target) => {
    const fields = (((target.ResTarget as Node).val as Node | undefined)?.ColumnRef as { fields?: Node[] } | undefined)?.fields
    return (fields?.[fields.length - 1]?.String as { sval?: string } | undefined)?.sval
  })
  const singular = table.replace(/ies$/, 'y').replace(/s$/, '')
  const idColumn = names.includes(predicate.bareColumn)
    ? predicate.bareColumn
    : names.includes('id') && (predicate.bareColumn === `${singular}_id` || predicate.bareColumn === `${singular}id`)
      ? 'id'
      : undefined
  if (!idColumn) return undefined

  const producerText = new Splicer(producer.sql)
  const fromAt = producerText.lastIndexOfWord('from', ((from[0]!.RangeVar as Node).location as number) ?? -1)
  if (fromAt < 0) return undefined
  const sorts = (producerStmt.sortClause as Node[] | undefined) ?? []
  const sortAt = nodeLocation((sorts[0]?.SortBy as Node | undefined)?.node as Node | undefined)
  const orderAt = sortAt !== undefined ? producerText.lastIndexOfWord('order', sortAt) : -1
  const rest = producerText.slice(fromAt, orderAt >= 0 ? orderAt : undefined).trim()

  const placeholder = '\u0000producer\u0000'
  const edits = new Splicer(sql)
  edits.replace(predicate.start, predicate.end, `${predicate.column} IN (SELECT ${idColumn} ${placeholder})`)
  addBatchColumn(edits, select, predicate.column)
  const joined = edits.toString()
  // The producer's parameters follow those the repeated statement keeps.
  const offset = maxParameter(joined)
  return joined.replace(placeholder, () => rest.replace(/\$(\d+)/g, (_match, n: string) => `$${Number(n) + offset}`))
}

function maxParameter(sql: string): number {
  let max = 0
  for (const match of sql.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(match[1]))
  return max
}

/** Many single-row INSERTs: one INSERT ... SELECT FROM unnest with an array per column. */
function insertFix(sql: string, insert: Node): FixSuggestion | undefined {
  const select = (insert.selectStmt as Node | undefined)?.SelectStmt as Node | undefined
  const rows = (select?.valuesLists as Node[] | undefined) ?? []
  if (rows.length !== 1) return undefined
  const columns = ((insert.cols as Node[] | undefined) ?? []).map((col) => (col.ResTarget as { name?: string }).name ?? '?')
  const relation = insert.relation as { relname?: string; schemaname?: string } | undefined
  if (!relation?.relname || columns.length === 0) return undefined
  const table = relation.schemaname ? `${relation.schemaname}.${relation.relname}` : relation.relname
  const arrays = columns.map((column, i) => `$${i + 1}::<${column} type>[]`).join(', ')
  const values = new Splicer(sql)
  const valuesAt = values.lastIndexOfWord('values', nodeLocation(((rows[0]!.List as Node).items as Node[])[0]) ?? -1)
  const tail = valuesAt >= 0 ? values.slice(valuesAt).replace(/^values\s*\([^)]*\)\s*/i, '') : ''
  return {
    summary: `Insert all rows in one statement: one array per column through unnest (or one multi-row VALUES list).`,
    batched: `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${arrays})${tail ? ` ${tail}` : ''}`,
  }
}

/** Edits on the UTF-8 bytes of a statement: libpg-query locations are byte offsets. */
class Splicer {
  private readonly bytes: Buffer
  private readonly edits: Array<{ start: number; end: number; text: string }> = []

  constructor(text: string) {
    this.bytes = Buffer.from(text, 'utf8')
  }

  match(at: number, pattern: RegExp): RegExpExecArray | null {
    if (at < 0 || at > this.bytes.length) return null
    return pattern.exec(this.bytes.subarray(at).toString('utf8'))
  }

  slice(start: number, end?: number): string {
    return this.bytes.subarray(start, end).toString('utf8')
  }

  /** Byte offset of the last whole `word` (case-insensitive) before `before`, or -1. */
  lastIndexOfWord(word: string, before: number): number {
    if (before < 0) return -1
    const head = this.bytes.subarray(0, before).toString('latin1').toLowerCase()
    const pattern = new RegExp(`\\b${word}\\b`, 'g')
    let found = -1
    for (const match of head.matchAll(pattern)) found = match.index
    return found
  }

  replace(start: number, end: number, text: string, eatSpaceBefore = false): void {
    let from = start
    if (eatSpaceBefore) while (from > 0 && this.bytes[from - 1] === 32) from--
    this.edits.push({ start: from, end, text })
  }

  insert(at: number, text: string): void {
    this.edits.push({ start: at, end: at, text })
  }

  toString(): string {
    const ordered = [...this.edits].sort((a, b) => b.start - a.start || b.end - a.end)
    let out = this.bytes
    for (const edit of ordered) {
      out = Buffer.concat([out.subarray(0, edit.start), Buffer.from(edit.text, 'utf8'), out.subarray(edit.end)])
    }
    return out.toString('utf8').replace(/\s+/g, ' ').trim()
  }
}
