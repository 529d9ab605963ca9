import type pg from 'pg'
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE, type Migration } from './schema.js'
import { withTransaction } from './transaction.js'

export interface MigrationResult {
  /** Versions applied by this call; empty when the database was already up to date. */
  applied: number[]
  /** The highest version now in schema_migrations. */
  current: number
}

/** Any constant works; it only has to be the same in every instance of the service. */
const MIGRATION_LOCK_ID = 7_310_001

/**
 * Applies the migrations not yet recorded in schema_migrations, all in one transaction, so a
 * failure leaves the schema as it was. Running it again changes nothing.
 */
export function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  return withTransaction(pool, async (client) => {
    // Two instances started together (blue and green) must not apply the same migration twice.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID])
    await client.query(SCHEMA_MIGRATIONS_TABLE)
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
    const done = new Set(rows.map((row) => row.version))
    const applied: number[] = []
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name])
      applied.push(migration.version)
      done.add(migration.version)
    }
    return { applied, current: Math.max(0, ...done) }
  })
}
