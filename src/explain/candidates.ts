/**
 * Index candidates from a statement's parse tree (libpg-query's JSON): the columns it filters on
 * with equality or ranges, joins on and sorts by, each resolved to its table through the aliases
 * of its scope (and outer scopes, for correlated subqueries). Pure: the advisor supplies the
 * catalog's column lists to resolve unqualified names in multi-table statements.
 */
import { quoteIdent } from './conditions.js'
import type { JsonObject, JsonValue } from '../core/index.js'

export interface TableRef {
  schema: string | null
  name: string
}

export interface IndexCandidate {
  /** The table as SQL writes it: items or sales.items. */
  table: string
  schema: string | null
  relation: string
  /** Column expressions in index order, e.g. ["sku"] or ["order_id", "id DESC"]. */
  columns: string[]
  /** Why: "equality on sku", "join on order_id", "ORDER BY id". */
  reason: string
  /** The CREATE INDEX statement HypoPG tries (no name, not concurrent). */
  definition: string
}

export interface CandidateOptions {
  /** The table's column names from the catalog, when known. */
  columnsOf?: (table: TableRef) => readonly string[] | undefined
  maxCandidates?: number
}

export interface CandidateResult {
  candidates: IndexCandidate[]
  tables: TableRef[]
  /** Column references that could not be tied to one table (ambiguous without the catalog). */
  unresolved: string[]
}

type Role = 'eq' | 'range' | 'join' | 'sort'

interface Use {
  table: TableRef
  column: string
  role: Role
  descending?: boolean
}

interface Scope {
  parent: Scope | null
  relations: Map<string, TableRef>
  ctes: Set<string>
}

const RANGE_OPERATORS = new Set(['<', '>', '<=', '>='])

/** Every table the statement reads or writes (not CTE names). */
export function referencedTables(tree: JsonObject): TableRef[] {
  return indexCandidates(tree).tables
}

export function indexCandidates(tree: JsonObject, options: CandidateOptions = {}): CandidateResult {
  const uses: Use[] = []
  const tables: TableRef[] = []
  const unresolved: string[] = []
  const columnsOf = options.columnsOf ?? (() => undefined)
  let sortUnusable = false

  const addTable = (table: TableRef) => {
    if (!tables.some((known) => sameTable(known, table))) tables.push(table)
  }

  const resolve = (ref: JsonObject, scope: Scope): { table: TableRef; column: string; depth: number; alias: string } | null => {
    const fields = Array.isArray(ref.fields) ? ref.fields : []
    const names = fields.map((field) => (isObject(field) && isObject(field.String) ? String(field.String.sval) : null))
    if (names.some((name) => name === null) || names.length === 0) return null
    const column = names[names.length - 1]!
    const qualifier = names.length >= 2 ? names[names.length - 2]! : null
    const schema = names.length >= 3 ? names[names.length - 3]! : null
    let depth = 0
    for (let current: Scope | null = scope; current; current = current.parent, depth++) {
      if (qualifier) {
        const table = current.relations.get(qualifier)
        if (table && (schema === null || table.schema === schema)) return { table, column, depth, alias: `${depth}:${qualifier}` }
        continue
      }
      const relations = [...current.relations.entries()]
      const having = relations.filter(([, table]) => columnsOf(table)?.includes(column))
      const found =
        having.length === 1
          ? having[0]!
          : having.length === 0 && relations.length === 1 && columnsOf(relations[0]![1]) === undefined
            ? relations[0]!
            : null
      if (found) return { table: found[1], column, depth, alias: `${depth}:${found[0]}` }
      if (having.length > 1 || (relations.length > 1 && relations.some(([, table]) => columnsOf(table) === undefined))) {
        unresolved.push(column)
        return null
      }
    }
    return null
  }

  const columnRefsIn = (value: JsonValue): JsonObject[] => {
    const found: JsonObject[] = []
    visitNodes(value, (key, node) => {
      if (key === 'ColumnRef') found.push(node)
      return key !== 'SubLink'
    })
    return found
  }

  const bareColumn = (expr: JsonValue | undefined): JsonObject | null => {
    if (!isObject(expr)) return null
    if (isObject(expr.ColumnRef)) return expr.ColumnRef
    return null
  }

  const analyzeCondition = (expr: JsonValue | undefined, scope: Scope): void => {
    if (!isObject(expr)) return
    if (isObject(expr.BoolExpr)) {
      const bool = expr.BoolExpr
      if (bool.boolop === 'AND_EXPR' && Array.isArray(bool.args)) for (const arg of bool.args) analyzeCondition(arg, scope)
      else processSubLinks(bool, scope)
      return
    }
    if (isObject(expr.SubLink)) {
      processSubLinks(expr, scope)
      return
    }
    if (!isObject(expr.A_Expr)) {
      processSubLinks(expr, scope)
      return
    }
    const aExpr = expr.A_Expr
    const operator = operatorName(aExpr)
    const kind = String(aExpr.kind ?? '')
    const left = bareColumn(aExpr.lexpr)
    const right = bareColumn(aExpr.rexpr)
    processSubLinks(aExpr, scope)

    let role: Role | null = null
    if (kind === 'AEXPR_OP' && operator === '=') role = 'eq'
    else if (kind === 'AEXPR_OP' && RANGE_OPERATORS.has(operator)) role = 'range'
    else if (kind === 'AEXPR_OP_ANY' && operator === '=') role = 'eq'
    else if (kind === 'AEXPR_IN' && operator === '=') role = 'eq'
    else if (kind === 'AEXPR_BETWEEN' || kind === 'AEXPR_BETWEEN_SYM') role = 'range'
    if (!role) return

    const sides: Array<[JsonObject | null, JsonValue | undefined]> = [
      [left, aExpr.rexpr],
      [right, aExpr.lexpr],
    ]
    for (const [column, other] of sides) {
      if (!column) continue
      const resolved = resolve(column, scope)
      if (!resolved || resolved.depth > 0) continue
      const otherRefs = columnRefsIn(other ?? null).map((ref) => resolve(ref, scope))
      if (otherRefs.length === 0) {
        uses.push({ table: resolved.table, column: resolved.column, role })
      } else if (role === 'eq' && otherRefs.every((ref) => ref === null || ref.alias !== resolved.alias)) {
        // Columns of another table, an outer query, or a CTE or subquery (which resolve to no table).
        uses.push({ table: resolved.table, column: resolved.column, role: 'join' })
      }
    }
  }

  const processSubLinks = (value: JsonValue, scope: Scope) => {
    visitNodes(value, (key, node) => {
      if (key === 'SubLink') {
        if (isObject(node.subselect)) processStatement(node.subselect, scope)
        return false
      }
      return true
    })
  }

  const addFrom = (items: JsonValue | undefined, scope: Scope, quals: JsonValue[]) => {
    if (!Array.isArray(items)) return
    for (const item of items) addFromItem(item, scope, quals)
  }

  const addFromItem = (item: JsonValue, scope: Scope, quals: JsonValue[]) => {
    if (!isObject(item)) return
    if (isObject(item.RangeVar)) {
      const rangeVar = item.RangeVar
      const name = String(rangeVar.relname)
      const schema = typeof rangeVar.schemaname === 'string' ? rangeVar.schemaname : null
      if (schema === null && inCte(scope, name)) return
      const table = { schema, name }
      addTable(table)
      const alias = isObject(rangeVar.alias) && typeof rangeVar.alias.aliasname === 'string' ? rangeVar.alias.aliasname : name
      scope.relations.set(alias, table)
    } else if (isObject(item.JoinExpr)) {
      const join = item.JoinExpr
      addFromItem(join.larg ?? null, scope, quals)
      addFromItem(join.rarg ?? null, scope, quals)
      if (join.quals) quals.push(join.quals)
      if (Array.isArray(join.usingClause)) {
        for (const side of [join.larg, join.rarg]) {
          if (!isObject(side) || !isObject(side.RangeVar)) continue
          const alias = isObject(side.RangeVar.alias) ? String(side.RangeVar.alias.aliasname) : String(side.RangeVar.relname)
          const table = scope.relations.get(alias)
          if (!table) continue
          for (const column of join.usingClause) {
            if (isObject(column) && isObject(column.String)) uses.push({ table, column: String(column.String.sval), role: 'join' })
          }
        }
      }
    } else if (isObject(item.RangeSubselect) && isObject(item.RangeSubselect.subquery)) {
      processStatement(item.RangeSubselect.subquery, scope)
    }
  }

  const processSelect = (select: JsonObject, parent: Scope | null) => {
    if (select.op && select.op !== 'SETOP_NONE') {
      if (isObject(select.larg)) processSelect(select.larg, parent)
      if (isObject(select.rarg)) processSelect(select.rarg, parent)
      return
    }
    const scope: Scope = { parent, relations: new Map(), ctes: new Set() }
    processWith(select.withClause, scope)
    const quals: JsonValue[] = []
    addFrom(select.fromClause, scope, quals)
    for (const qual of quals) analyzeCondition(qual, scope)
    analyzeCondition(select.whereClause, scope)
    processSubLinks(select.targetList ?? null, scope)
    processSubLinks(select.havingClause ?? null, scope)
    if (Array.isArray(select.sortClause)) {
      for (const item of select.sortClause) {
        if (!isObject(item) || !isObject(item.SortBy)) continue
        const column = bareColumn(item.SortBy.node)
        const resolved = column ? resolve(column, scope) : null
        if (resolved && resolved.depth === 0) {
          uses.push({ table: resolved.table, column: resolved.column, role: 'sort', descending: item.SortBy.sortby_dir === 'SORTBY_DESC' })
        } else {
          // An expression, a position or an outer column: no index on one table serves the ORDER BY.
          sortUnusable = true
        }
      }
    }
  }

  const processWith = (withClause: JsonValue | undefined, scope: Scope) => {
    if (!isObject(withClause) || !Array.isArray(withClause.ctes)) return
    for (const cte of withClause.ctes) {
      if (!isObject(cte) || !isObject(cte.CommonTableExpr)) continue
      scope.ctes.add(String(cte.CommonTableExpr.ctename))
      if (isObject(cte.CommonTableExpr.ctequery)) processStatement(cte.CommonTableExpr.ctequery, scope)
    }
  }

  const processModify = (statement: JsonObject, parent: Scope | null, extraFrom: JsonValue | undefined) => {
    const scope: Scope = { parent, relations: new Map(), ctes: new Set() }
    processWith(statement.withClause, scope)
    const quals: JsonValue[] = []
    if (isObject(statement.relation)) addFromItem({ RangeVar: statement.relation }, scope, quals)
    addFrom(extraFrom, scope, quals)
    for (const qual of quals) analyzeCondition(qual, scope)
    analyzeCondition(statement.whereClause, scope)
    processSubLinks(statement.targetList ?? null, scope)
  }

  const processStatement = (node: JsonObject, parent: Scope | null) => {
    if (isObject(node.SelectStmt)) processSelect(node.SelectStmt, parent)
    else if (isObject(node.UpdateStmt)) processModify(node.UpdateStmt, parent, node.UpdateStmt.fromClause)
    else if (isObject(node.DeleteStmt)) processModify(node.DeleteStmt, parent, node.DeleteStmt.usingClause)
    else if (isObject(node.InsertStmt)) {
      const scope: Scope = { parent, relations: new Map(), ctes: new Set() }
      processWith(node.InsertStmt.withClause, scope)
      if (isObject(node.InsertStmt.relation)) addTable(tableOf(node.InsertStmt.relation))
      if (isObject(node.InsertStmt.selectStmt)) processStatement(node.InsertStmt.selectStmt, scope)
    } else if (isObject(node.MergeStmt)) {
      const merge = node.MergeStmt
      const scope: Scope = { parent, relations: new Map(), ctes: new Set() }
      processWith(merge.withClause, scope)
      const quals: JsonValue[] = []
      if (isObject(merge.relation)) addFromItem({ RangeVar: merge.relation }, scope, quals)
      if (merge.sourceRelation) addFromItem(merge.sourceRelation, scope, quals)
      for (const qual of quals) analyzeCondition(qual, scope)
      analyzeCondition(merge.joinCondition, scope)
    } else if (isObject(node.CreateTableAsStmt) && isObject(node.CreateTableAsStmt.query)) {
      processStatement(node.CreateTableAsStmt.query, parent)
    }
  }

  processStatement(tree, null)
  const usable = sortUnusable ? uses.filter((use) => use.role !== 'sort') : uses
  return { candidates: buildCandidates(usable, options.maxCandidates ?? 12), tables, unresolved: [...new Set(unresolved)] }
}

function buildCandidates(uses: Use[], max: number): IndexCandidate[] {
  const byTable = new Map<string, { table: TableRef; uses: Use[] }>()
  for (const use of uses) {
    if (use.role === 'sort') continue
    const key = tableKey(use.table)
    if (!byTable.has(key)) byTable.set(key, { table: use.table, uses: [] })
    byTable.get(key)!.uses.push(use)
  }
  const sorts = uses.filter((use) => use.role === 'sort')
  const sortTable = sorts.length > 0 && sorts.every((use) => sameTable(use.table, sorts[0]!.table)) ? sorts[0]!.table : null
  if (sortTable && !byTable.has(tableKey(sortTable))) byTable.set(tableKey(sortTable), { table: sortTable, uses: [] })

  const candidates: IndexCandidate[] = []
  const add = (table: TableRef, columns: string[], reason: string) => {
    if (columns.length === 0) return
    const tableSql = table.schema ? `${quoteIdent(table.schema)}.${quoteIdent(table.name)}` : quoteIdent(table.name)
    if (candidates.some((candidate) => candidate.table === tableSql && candidate.columns.join() === columns.join())) return
    candidates.push({
      table: tableSql,
      schema: table.schema,
      relation: table.name,
      columns,
      reason,
      definition: `CREATE INDEX ON ${tableSql} (${columns.join(', ')})`,
    })
  }
  const unique = (items: string[]) => [...new Set(items)]

  for (const { table, uses: tableUses } of byTable.values()) {
    const eq = unique(tableUses.filter((use) => use.role === 'eq').map((use) => use.column))
    const range = unique(tableUses.filter((use) => use.role === 'range').map((use) => use.column)).filter((column) => !eq.includes(column))
    const join = unique(tableUses.filter((use) => use.role === 'join').map((use) => use.column))
    const eqSql = eq.map(quoteIdent)
    if (eq.length > 0) add(table, eqSql, `equality on ${eq.join(', ')}`)
    if (eq.length > 1) for (const column of eq) add(table, [quoteIdent(column)], `equality on ${column}`)
    if (range.length > 0) {
      if (eq.length > 0) add(table, [...eqSql, quoteIdent(range[0]!)], `equality on ${eq.join(', ')}, range on ${range[0]}`)
      for (const column of range) add(table, [quoteIdent(column)], `range on ${column}`)
    }
    if (sortTable && sameTable(sortTable, table)) {
      const sortColumns = sorts
        .filter((use) => !eq.includes(use.column))
        .map((use) => `${quoteIdent(use.column)}${use.descending ? ' DESC' : ''}`)
      if (sortColumns.length > 0)
        add(
          table,
          [...eqSql, ...sortColumns],
          `${eq.length > 0 ? `equality on ${eq.join(', ')}, ` : ''}ORDER BY ${sorts.map((use) => use.column).join(', ')}`,
        )
    }
    for (const column of join) add(table, [quoteIdent(column)], `join on ${column}`)
  }
  return candidates.slice(0, max)
}

/** True when an existing index (its column list) already starts with the candidate's columns. */
export function coveredByIndex(candidate: IndexCandidate, existing: readonly string[][]): boolean {
  const wanted = candidate.columns.map((column) => column.replace(/ DESC$/, '').replace(/^"(.*)"$/, '$1'))
  return existing.some((index) => wanted.every((column, i) => index[i] === column))
}

function operatorName(aExpr: JsonObject): string {
  const name = Array.isArray(aExpr.name) ? aExpr.name[aExpr.name.length - 1] : undefined
  return isObject(name) && isObject(name.String) ? String(name.String.sval) : ''
}

/** Depth-first over {Type: {...}} nodes; the visitor returns false to skip a node's insides. */
function visitNodes(value: JsonValue, visit: (key: string, node: JsonObject) => boolean): void {
  if (Array.isArray(value)) {
    for (const item of value) visitNodes(item, visit)
    return
  }
  if (!isObject(value)) return
  for (const [key, item] of Object.entries(value)) {
    if (isObject(item) && /^[A-Z]/.test(key)) {
      if (visit(key, item)) visitNodes(item, visit)
    } else {
      visitNodes(item, visit)
    }
  }
}

function inCte(scope: Scope | null, name: string): boolean {
  for (let current = scope; current; current = current.parent) if (current.ctes.has(name)) return true
  return false
}

function tableOf(rangeVar: JsonObject): TableRef {
  return { schema: typeof rangeVar.schemaname === 'string' ? rangeVar.schemaname : null, name: String(rangeVar.relname) }
}

function tableKey(table: TableRef): string {
  return `${table.schema ?? ''}.${table.name}`
}

function sameTable(a: TableRef, b: TableRef): boolean {
  return a.name === b.name && (a.schema ?? 'public') === (b.schema ?? 'public')
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
}
