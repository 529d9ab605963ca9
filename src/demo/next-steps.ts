/** What to try next, for the commands this build of opsctl has: the list grows as the toolkit does. */
const SUGGESTIONS: Array<{ command: string; text: (url: string, dbUrl: string, queryLog: string) => string }> = [
  {
    command: 'db:nplusone',
    text: (_url, _db, queryLog) => `opsctl db nplusone --service-log ${queryLog}   # the N+1 behind /users/:id/orders`,
  },
  { command: 'db:explain', text: (_url, db) => `opsctl db explain --database-url ${db} "SELECT * FROM items WHERE sku = 'SKU-00042'"` },
  { command: 'load', text: (url) => `opsctl load ${url}/users/1/orders -c 10 -d 10s` },
  { command: 'profile', text: () => 'opsctl profile --service reference --duration 10s' },
  { command: 'flags:list', text: () => 'opsctl flags list' },
  { command: 'journal', text: () => 'opsctl journal --since 1h' },
  { command: 'incident:start', text: () => 'opsctl incident start "Orders are slow" --sev 3' },
  { command: 'config:show', text: () => 'opsctl config show' },
  {
    command: 'dashboard',
    text: (_url, db) => `opsctl dashboard --database-url ${db}   # in another terminal: flags, incidents, queries and the journal, live`,
  },
]

export function nextSteps(serviceUrl: string, databaseUrl: string, queryLog: string, commandIds: string[]): string[] {
  const available = new Set(commandIds)
  return [
    `curl ${serviceUrl}/users/1/orders        # orders with items (one query per order: an N+1)`,
    `curl '${serviceUrl}/items?sku=SKU-00042'  # a filter on a column without an index`,
    `curl ${serviceUrl}/reports/revenue        # CPU-heavy aggregation in JavaScript`,
    `curl ${serviceUrl}/metrics                # Prometheus metrics`,
    ...SUGGESTIONS.filter((suggestion) => available.has(suggestion.command)).map((suggestion) =>
      suggestion.text(serviceUrl, databaseUrl, queryLog),
    ),
  ]
}
