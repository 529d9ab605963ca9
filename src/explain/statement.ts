/**
 * The statement to explain, checked with PostgreSQL's own parser (libpg-query) before anything
 * reaches the server: exactly one statement, one EXPLAIN can run, and nothing that would act
 * outside the transaction opsctl rolls back. No I/O beyond loading the parser.
 */
import { loadModule, parse } from 'libpg-query'
import { badInput } from '../core/index.js'
import type { JsonObject, JsonValue } from '../core/index.js'

export interface CheckedStatement {
  /** The statement alone: comments around it and the trailing semicolon removed. */
  text: string
  /** 'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'CREATE TABLE AS'. */
  kind: string
  /** The highest $n the statement uses. */
  paramCount: number
  /** The parse tree of the statement: { SelectStmt: {...} } and so on. */
  tree: JsonObject
  /** Things the user should know about running it (sequences are not rolled back). */
  notes: string[]
}

const EXPLAINABLE: Record<string, string> = {
  SelectStmt: 'SELECT',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CreateTableAsStmt: 'CREATE TABLE AS',
}

/** Statements that would end opsctl's transaction or cannot run inside one. */
const REFUSED: Record<string, string> = {
  TransactionStmt: 'transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) would end the transaction opsctl rolls back',
  VacuumStmt: 'VACUUM and ANALYZE cannot run inside a transaction block, and EXPLAIN cannot run them',
  ExplainStmt: 'the statement is already an EXPLAIN; opsctl adds its own options',
  ExecuteStmt: "EXECUTE needs a statement prepared in the same session; pass the prepared statement's SQL with --param values instead",
  IndexStmt:
    'CREATE INDEX is not a query EXPLAIN can run (CREATE INDEX CONCURRENTLY cannot even run in a transaction); the advisor tries indexes hypothetically instead',
  CopyStmt: 'COPY is not a query EXPLAIN can run',
  CallStmt: 'CALL may commit inside the procedure, escaping the rollback',
  DoStmt: 'DO blocks are not a query EXPLAIN can run',
}

/**
 * Functions whose effects survive a ROLLBACK (other sessions, files, sequences' values set
 * explicitly, server state). nextval() and identity defaults are allowed: they only advance.
 */
const ESCAPING_FUNCTIONS =
  /^(dblink.*|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|pg_switch_wal|pg_create_restore_point|pg_logical_emit_message|pg_stat_reset.*|pg_file_write|pg_file_rename|pg_file_unlink|pg_file_sync|lo_export|lo_import|setval|pg_advisory_lock|pg_advisory_lock_shared)$/

let loaded: Promise<void> | undefined

export async function checkStatement(sql: string): Promise<CheckedStatement> {
  loaded ??= loadModule()
  await loaded
  if (sql.trim() === '')
    throw badInput(
      'No statement to explain: the input is empty',
      'Pass the SQL as an argument, with --file, on stdin, or an existing plan with --plan FILE.',
    )
  const trimmed = sql.trimStart()
  if (trimmed.startsWith('[') || trimmed.startsWith('{') || /\(cost=\d/.test(sql)) {
    throw badInput('The input looks like a plan, not a SQL statement', 'Pass an existing plan with --plan FILE.')
  }

  let result: { stmts?: Array<{ stmt?: JsonObject; stmt_location?: number; stmt_len?: number }> }
  try {
    result = (await parse(sql)) as unknown as typeof result
  } catch (error) {
    const details = (error as { sqlDetails?: { message?: string; cursorPosition?: number } }).sqlDetails
    const message = details?.message ?? (error as Error).message
    if (details?.cursorPosition !== undefined) {
      // The error's cursor counts characters (statement locations count bytes).
      const at = details.cursorPosition
      throw badInput(
        `Syntax error in the statement: ${message} at ${lineColumn(sql, at)}\n${pointAt(sql, at)}`,
        'Fix the SQL; opsctl checks it with the PostgreSQL parser before running it.',
      )
    }
    throw badInput(`Cannot parse the statement: ${message}`, 'Pass one SQL statement.')
  }

  const statements = result.stmts ?? []
  if (statements.length === 0)
    throw badInput('No statement to explain: the input has only comments or semicolons', 'Pass one SQL statement.')
  if (statements.length > 1) {
    throw badInput(
      `Got ${statements.length} statements; opsctl explains exactly one at a time`,
      'Split them and explain each on its own (opsctl db explain "SELECT ...").',
    )
  }
  const entry = statements[0]!
  const tree = entry.stmt ?? {}
  const type = Object.keys(tree)[0] ?? 'unknown'
  const kind = EXPLAINABLE[type]
  if (!kind) {
    const reason = REFUSED[type] ?? `${describeType(type)} is not a query EXPLAIN can run`
    throw badInput(
      `Cannot explain this statement: ${reason}`,
      'opsctl explains one SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES or CREATE TABLE AS statement.',
    )
  }
  const escaping = [...collectFunctionNames(tree)].filter((name) => ESCAPING_FUNCTIONS.test(name))
  if (escaping.length > 0) {
    throw badInput(
      `Cannot explain this statement: ${escaping.join(', ')}() acts outside the transaction, so rolling back would not undo it`,
      'Explain the statement without that call, or explain it with --no-analyze on a copy of the database.',
    )
  }

  const bytes = Buffer.from(sql, 'utf8')
  const start = entry.stmt_location ?? 0
  const end = entry.stmt_len ? start + entry.stmt_len : bytes.length
  const text = bytes.subarray(start, end).toString('utf8').trim().replace(/;\s*$/, '').trim()
  const notes: string[] = []
  if (kind === 'INSERT' || kind === 'MERGE' || collectFunctionNames(tree).has('nextval')) {
    notes.push('Sequences the statement draws from stay advanced after the rollback (PostgreSQL never rolls sequences back).')
  }
  return { text, kind, paramCount: maxParam(tree), tree, notes }
}

function collectFunctionNames(tree: JsonValue): Set<string> {
  const names = new Set<string>()
  walk(tree, (key, value) => {
    if (key === 'FuncCall' && isObject(value) && Array.isArray(value.funcname)) {
      const last = value.funcname[value.funcname.length - 1]
      if (isObject(last) && isObject(last.String) && typeof last.String.sval === 'string') names.add(last.String.sval.toLowerCase())
    }
  })
  return names
}

function maxParam(tree: JsonValue): number {
  let max = 0
  walk(tree, (key, value) => {
    if (key === 'ParamRef' && isObject(value) && typeof value.number === 'number') max = Math.max(max, value.number)
  })
  return max
}

export function walk(value: JsonValue, visit: (key: string, value: JsonValue) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit)
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      visit(key, item)
      walk(item, visit)
    }
  }
}

function describeType(type: string): string {
  const words = type
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase()
  return words === 'UNKNOWN' ? 'this statement' : `${words}`
}

export function lineColumn(text: string, index: number): string {
  const before = text.slice(0, index)
  const line = (before.match(/\n/g)?.length ?? 0) + 1
  const column = index - (before.lastIndexOf('\n') + 1) + 1
  return `line ${line}, column ${column}`
}

/** The offending line with a caret under the position. */
export function pointAt(text: string, index: number): string {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1
  const lineEnd = text.indexOf('\n', index)
  const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd)
  return `  ${line}\n  ${' '.repeat(Math.max(0, index - lineStart))}^`
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
}
