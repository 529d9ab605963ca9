import { fingerprintSync, loadModule, normalizeSync, parseSync } from 'libpg-query'
import { BugError } from '../core/index.js'
import { detach, hash64, lexicalKey, lexicalNormalize, tidySql } from './lexical.js'

/** What kind of statement, as far as N+1 detection cares. Only reads and writes can be an N+1. */
export type StatementKind = 'select' | 'insert' | 'update' | 'delete' | 'merge' | 'begin' | 'commit' | 'rollback' | 'utility' | 'unknown'

export interface QueryIdentity {
  /** libpg-query fingerprint (16 hex digits), or `lex:` + a hash of the lexical normalisation. */
  fingerprint: string
  /** Normalised SQL on one line: literals and parameters as $n, no comments. */
  sql: string
  /** false when the PostgreSQL parser rejected the statement and the lexical fallback was used. */
  parsed: boolean
  kind: StatementKind
  /** The parse tree of the normalised SQL, for fix suggestions (undefined for the fallback). */
  tree?: unknown
}

let loading: Promise<void> | undefined
let loaded = false

/** Loads the PostgreSQL parser (WebAssembly) once; every entry point awaits this before identifying statements. */
export async function loadQueryParser(): Promise<void> {
  loading ??= loadModule().then(() => {
    loaded = true
  })
  await loading
}

/** Caches are bounded so that a log full of distinct literal values keeps memory flat. */
const MAX_CACHED = 50_000

/**
 * Statement text -> identity, memoised twice: by raw text (parameterised statements repeat
 * verbatim) and by lexical key (statements that differ only in literals, comments, case and
 * whitespace share one parse). Identities are shared per fingerprint.
 */
export class QueryIdentifier {
  private readonly byText = new Map<string, QueryIdentity>()
  private readonly byKey = new Map<string, QueryIdentity>()
  private readonly byFingerprint = new Map<string, QueryIdentity>()
  /** Parser calls so far: a cache that works keeps this near the number of distinct statements. */
  parses = 0

  identify(text: string): QueryIdentity {
    let identity = this.byText.get(text)
    if (identity === undefined) {
      const key = lexicalKey(text)
      identity = this.byKey.get(key)
      if (identity === undefined) {
        identity = this.parse(text)
        remember(this.byKey, key, identity)
      }
      remember(this.byText, text, identity)
    }
    return identity
  }

  private parse(text: string): QueryIdentity {
    if (!loaded) throw new BugError('The PostgreSQL parser is not loaded: await loadQueryParser() first.')
    this.parses++
    let fingerprint: string
    try {
      fingerprint = fingerprintSync(text)
    } catch {
      return this.fallback(text)
    }
    const known = this.byFingerprint.get(fingerprint)
    if (known) return known
    let normalized: string
    let tree: unknown
    try {
      normalized = normalizeSync(text)
      tree = parseSync(normalized)
    } catch {
      normalized = lexicalNormalize(text)
      tree = undefined
    }
    const identity: QueryIdentity = { fingerprint, sql: tidySql(normalized), parsed: true, kind: kindOf(tree, text), tree }
    this.byFingerprint.set(fingerprint, identity)
    return identity
  }

  private fallback(text: string): QueryIdentity {
    const sql = lexicalNormalize(text)
    const fingerprint = `lex:${hash64(sql.toLowerCase())}`
    const known = this.byFingerprint.get(fingerprint)
    if (known) return known
    const identity: QueryIdentity = { fingerprint, sql, parsed: false, kind: kindOf(undefined, text) }
    this.byFingerprint.set(fingerprint, identity)
    return identity
  }

  /** The identity of a fingerprint seen before. */
  byPrint(fingerprint: string): QueryIdentity | undefined {
    return this.byFingerprint.get(fingerprint)
  }
}

function remember(map: Map<string, QueryIdentity>, key: string, identity: QueryIdentity): void {
  if (map.size >= MAX_CACHED) map.clear()
  map.set(detach(key), identity)
}

const STATEMENT_KINDS: Record<string, StatementKind> = {
  SelectStmt: 'select',
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
}

const TRANSACTION_KINDS: Record<string, StatementKind> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_COMMIT_PREPARED: 'commit',
  TRANS_STMT_ROLLBACK_PREPARED: 'rollback',
  TRANS_STMT_PREPARE: 'commit',
}

function kindOf(tree: unknown, text: string): StatementKind {
  const stmts = (tree as { stmts?: Array<{ stmt?: Record<string, unknown> }> } | undefined)?.stmts
  const first = stmts?.[0]?.stmt
  if (first) {
    const [type] = Object.keys(first)
    if (type === 'TransactionStmt') {
      const kind = (first.TransactionStmt as { kind?: string }).kind
      return (kind ? TRANSACTION_KINDS[kind] : undefined) ?? 'utility'
    }
    if (type === 'ExplainStmt') return 'utility'
    return (type ? STATEMENT_KINDS[type] : undefined) ?? 'utility'
  }
  // Fallback: the first word decides (WITH ... may be any DML; treat it as a read).
  const word = /^\s*(\w+)/.exec(text.replace(/^\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/)*/g, ''))?.[1]?.toLowerCase()
  switch (word) {
    case 'select':
    case 'with':
    case 'table':
    case 'values':
      return 'select'
    case 'insert':
    case 'update':
    case 'delete':
    case 'merge':
      return word
    case 'begin':
    case 'start':
      return 'begin'
    case 'commit':
    case 'end':
      return 'commit'
    case 'rollback':
    case 'abort':
      return 'rollback'
    case 'set':
    case 'reset':
    case 'show':
    case 'savepoint':
    case 'release':
    case 'discard':
    case 'deallocate':
    case 'listen':
    case 'notify':
    case 'unlisten':
      return 'utility'
    default:
      // A statement the parser rejects (another dialect, a newer syntax) may well be a query: it can be flagged.
      return 'unknown'
  }
}

/** Statements that can be an N+1: reads and writes (and unparsed statements), not transaction control, SET, SHOW and the like. */
export function isDataStatement(kind: StatementKind): boolean {
  return kind === 'select' || kind === 'insert' || kind === 'update' || kind === 'delete' || kind === 'merge' || kind === 'unknown'
}
