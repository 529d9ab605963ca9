/**
 * Column names in the condition strings PostgreSQL prints ("((a = 5) AND (t.b > 3))"), for the
 * actions a finding suggests. A heuristic over printed expressions, not a SQL parser: it takes the
 * identifiers compared with an operator and ignores literals, casts and function names.
 */
const COMPARISON =
  /(?:^|[\s(])((?:"[^"]+"|[A-Za-z_][\w$]*)\.)?("[^"]+"|[A-Za-z_][\w$]*)\s*(?:=|<>|!=|<=|>=|<|>|~~\*?|!~~\*?|IS\b|@>|<@|&&)/g
const NOT_COLUMNS = new Set(['and', 'or', 'not', 'any', 'all', 'true', 'false', 'null', 'case', 'when', 'then', 'else', 'end'])

export function conditionColumns(condition: string | null | undefined): string[] {
  if (!condition) return []
  const withoutLiterals = condition.replace(/'(?:[^']|'')*'(?:::[\w ."[\]]+)?/g, "''")
  const columns: string[] = []
  for (const match of withoutLiterals.matchAll(COMPARISON)) {
    const name = match[2]!.replace(/^"(.*)"$/, '$1')
    if (NOT_COLUMNS.has(name.toLowerCase()) || /^\$\d+$/.test(name)) continue
    if (!columns.includes(name)) columns.push(name)
  }
  return columns
}

/** Identifier as SQL needs it: bare when it is a plain lower-case name, quoted otherwise. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`
}

const RESERVED = new Set(
  'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral leading limit localtime localtimestamp not null offset on only or order placing primary references returning select session_user some symmetric system_user table then to trailing true union unique user using variadic when where window with'.split(
    ' ',
  ),
)
