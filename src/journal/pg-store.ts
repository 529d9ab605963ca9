import pg from 'pg'
import { environmentError, isOpsError, redactText } from '../core/index.js'
import { checkStoredEvent, type JournalEvent } from './event.js'
import type { JournalFilter } from './filter.js'
import type { AppendOptions, AppendResult, Damage, JournalStore, ReadOptions, VerifyReport } from './store.js'

export interface PgJournalOptions {
  url: string
  /** false: commit without waiting for the WAL flush (synchronous_commit = off). */
  durable: boolean
}

export const JOURNAL_TABLE = 'opsctl_journal_events'
const CHANNEL = 'opsctl_journal'
const MIGRATION_MARK = 'opsctl ops journal, schema 1'
const PAGE = 5000
const INSERT_CHUNK = 2000

/**
 * Idempotent and safe to run from many processes at once (an advisory lock serializes it).
 * `txid` records the inserting transaction: the notify trigger sends it once per transaction,
 * and a follower fetches exactly that transaction's rows once it has committed.
 */
const MIGRATION = `
CREATE TABLE IF NOT EXISTS ${JOURNAL_TABLE} (
  id text COLLATE "C" PRIMARY KEY,
  time timestamptz NOT NULL,
  kind text COLLATE "C" NOT NULL,
  actor text NOT NULL,
  subject text NOT NULL,
  links jsonb NOT NULL DEFAULT '{}'::jsonb,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  schema_version integer NOT NULL DEFAULT 1,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ${JOURNAL_TABLE}_time_idx ON ${JOURNAL_TABLE} (time);
CREATE INDEX IF NOT EXISTS ${JOURNAL_TABLE}_kind_idx ON ${JOURNAL_TABLE} (kind, id);
CREATE INDEX IF NOT EXISTS ${JOURNAL_TABLE}_txid_idx ON ${JOURNAL_TABLE} (txid);
CREATE OR REPLACE FUNCTION ${JOURNAL_TABLE}_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${CHANNEL}', pg_current_xact_id()::text);
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS ${JOURNAL_TABLE}_notify ON ${JOURNAL_TABLE};
CREATE TRIGGER ${JOURNAL_TABLE}_notify AFTER INSERT ON ${JOURNAL_TABLE} FOR EACH STATEMENT EXECUTE FUNCTION ${JOURNAL_TABLE}_notify();
COMMENT ON TABLE ${JOURNAL_TABLE} IS '${MIGRATION_MARK}';
`

const COLUMNS = 'id, time, kind, actor, subject, links, data, schema_version'
/** time as the journal writes it (ISO 8601 UTC, milliseconds), formatted by the server: cheaper than Date. */
const SELECT_COLUMNS = `id, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time, kind, actor, subject, links, data, schema_version`

interface Row {
  id: string
  time: string
  kind: string
  actor: string
  subject: string
  links: Record<string, string>
  data: Record<string, unknown>
  schema_version: number
}

/** The team journal: one table, a batch per transaction, follow through LISTEN/NOTIFY. */
export class PgJournal implements JournalStore {
  readonly kind = 'postgresql' as const
  readonly location: string
  private readonly pool: pg.Pool

  private constructor(private readonly options: PgJournalOptions) {
    this.location = describeUrl(options.url)
    // Not durable: commits return before the WAL reaches the disk (a crash of the server can lose
    // the last ones; nothing is ever half-written).
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: 4,
      application_name: 'opsctl journal',
      ...(options.durable ? {} : { options: '-c synchronous_commit=off' }),
    })
    this.pool.on('error', () => {}) // an idle client's connection dropped; the next query reconnects
  }

  static async open(options: PgJournalOptions): Promise<PgJournal> {
    const journal = new PgJournal(options)
    try {
      await journal.migrate()
    } catch (error) {
      await journal.pool.end().catch(() => {})
      throw environmentError(
        `Cannot open the journal in ${journal.location}: ${redactText((error as Error).message)}`,
        'Check journal.url (or OPSCTL_JOURNAL_URL) and that the server is running; the user needs CREATE on the database the first time.',
        error,
      )
    }
    return journal
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect()
    try {
      const done = await client.query<{ mark: string | null }>(`SELECT obj_description(to_regclass($1), 'pg_class') AS mark`, [
        JOURNAL_TABLE,
      ])
      if (done.rows[0]?.mark === MIGRATION_MARK) return
      await client.query('BEGIN')
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('${JOURNAL_TABLE}'))`)
      // Another process may have migrated while we waited for the lock.
      const again = await client.query<{ mark: string | null }>(`SELECT obj_description(to_regclass($1), 'pg_class') AS mark`, [
        JOURNAL_TABLE,
      ])
      if (again.rows[0]?.mark !== MIGRATION_MARK) await client.query(MIGRATION)
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }

  async append(events: readonly JournalEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    void options // ids are the primary key: existing ones are always skipped (ON CONFLICT DO NOTHING)
    if (events.length === 0) return { appended: 0, skipped: 0 }
    const insert = (client: pg.PoolClient, chunk: readonly JournalEvent[]) =>
      client.query(
        `INSERT INTO ${JOURNAL_TABLE} (${COLUMNS})
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::int[])
         ON CONFLICT (id) DO NOTHING`,
        [
          chunk.map((event) => event.id),
          chunk.map((event) => event.time),
          chunk.map((event) => event.kind),
          chunk.map((event) => event.actor),
          chunk.map((event) => event.subject),
          chunk.map((event) => JSON.stringify(event.links)),
          chunk.map((event) => JSON.stringify(event.data)),
          chunk.map((event) => event.v),
        ],
      )
    const client = await this.pool.connect()
    let appended = 0
    // One statement is a transaction of its own; larger batches take several in one transaction.
    const single = events.length <= INSERT_CHUNK
    try {
      if (single) {
        appended = (await insert(client, events)).rowCount ?? 0
      } else {
        await client.query('BEGIN')
        for (let start = 0; start < events.length; start += INSERT_CHUNK)
          appended += (await insert(client, events.slice(start, start + INSERT_CHUNK))).rowCount ?? 0
        await client.query('COMMIT')
      }
    } catch (error) {
      if (!single) await client.query('ROLLBACK').catch(() => {})
      throw environmentError(
        `Cannot append to the journal in ${this.location}: ${redactText((error as Error).message)}`,
        'Check that the server is reachable.',
        error,
      )
    } finally {
      client.release()
    }
    return { appended, skipped: events.length - appended }
  }

  /** Keyset pages by id inside one REPEATABLE READ transaction: a consistent snapshot, little memory. */
  async *read(filter: JournalFilter = {}, options: ReadOptions = {}): AsyncIterable<JournalEvent> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      yield* this.pages(client, filter, options)
    } finally {
      await client.query('COMMIT').catch(() => {})
      client.release()
    }
  }

  /**
   * LISTEN first, then the backlog in a snapshot; each notification names a committed
   * transaction, whose rows are fetched unless that snapshot already saw them. No polling,
   * nothing missed, nothing twice.
   */
  async *follow(filter: JournalFilter = {}, options: ReadOptions = {}): AsyncIterable<JournalEvent> {
    const client = new pg.Client({ connectionString: this.options.url, application_name: 'opsctl journal follow' })
    const pending: string[] = []
    let wake: (() => void) | undefined
    let lost: Error | undefined
    const onAbort = () => wake?.()
    // A dropped connection ends the follow with an error instead of waiting forever.
    client.on('error', (error) => {
      lost ??= error
      wake?.()
    })
    client.on('end', () => {
      lost ??= new Error('the connection was closed')
      wake?.()
    })
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) pending.push(message.payload)
      wake?.()
    })
    options.signal?.addEventListener('abort', onAbort)
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANNEL}`)
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const snapshot = (await client.query<{ snapshot: string }>('SELECT pg_current_snapshot()::text AS snapshot')).rows[0]!.snapshot
      yield* this.pages(client, filter, options)
      await client.query('COMMIT')
      const where = conditions(filter, 3)
      while (!options.signal?.aborted) {
        if (lost)
          throw environmentError(
            `Lost the journal connection to ${this.location}: ${redactText(lost.message)}`,
            'Check the server, then run the command again.',
            lost,
          )
        const txid = pending.shift()
        if (txid === undefined) {
          await new Promise<void>((resolve) => (wake = resolve))
          wake = undefined
          continue
        }
        const rows = await client.query<Row>(
          `SELECT ${SELECT_COLUMNS} FROM ${JOURNAL_TABLE}
           WHERE txid = $1::xid8 AND NOT pg_visible_in_snapshot($1::xid8, $2::pg_snapshot)${where.sql ? ` AND ${where.sql}` : ''}
           ORDER BY id`,
          [txid, snapshot, ...where.values],
        )
        for (const row of rows.rows) {
          const event = this.toEvent(row, options)
          if (event) yield event
        }
      }
    } catch (error) {
      // The connection can also drop in the middle of a query: the same environment error as above.
      const cause = lost ?? (error as Error)
      if (isOpsError(error) || (!lost && !isConnectionLoss(error))) throw error
      throw environmentError(
        `Lost the journal connection to ${this.location}: ${redactText(cause.message)}`,
        'Check the server, then run the command again.',
        cause,
      )
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
      await client.end().catch(() => {})
    }
  }

  async verify(): Promise<VerifyReport> {
    const damaged: Damage[] = []
    let records = 0
    let events = 0
    const client = await this.pool.connect()
    try {
      const trigger = await client.query(`SELECT 1 FROM pg_trigger WHERE tgname = $1 AND NOT tgisinternal`, [`${JOURNAL_TABLE}_notify`])
      if (trigger.rowCount === 0)
        damaged.push({
          location: `${this.location} ${JOURNAL_TABLE}`,
          reason: 'the notify trigger is missing: journal --follow would not see new events',
        })
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      for await (const _event of this.pages(
        client,
        {},
        {
          onDamage: (damage) => damaged.push(damage),
          onRow: () => records++,
        },
      ))
        events++
    } finally {
      await client.query('COMMIT').catch(() => {})
      client.release()
    }
    return { store: this.kind, location: this.location, units: 1, records, events, duplicates: 0, damaged }
  }

  async close(): Promise<void> {
    await this.pool.end()
  }

  private async *pages(
    client: pg.PoolClient | pg.Client,
    filter: JournalFilter,
    options: ReadOptions & { onRow?: () => void },
  ): AsyncGenerator<JournalEvent> {
    const where = conditions(filter, 2)
    let after = ''
    for (;;) {
      if (options.signal?.aborted) return
      const page = await client.query<Row>(
        `SELECT ${SELECT_COLUMNS} FROM ${JOURNAL_TABLE} WHERE id > $1${where.sql ? ` AND ${where.sql}` : ''} ORDER BY id LIMIT ${PAGE}`,
        [after, ...where.values],
      )
      for (const row of page.rows) {
        options.onRow?.()
        const event = this.toEvent(row, options)
        if (event) yield event
      }
      if (page.rows.length < PAGE) return
      after = page.rows[page.rows.length - 1]!.id
    }
  }

  private toEvent(row: Row, options: ReadOptions): JournalEvent | undefined {
    const checked = checkStoredEvent({
      v: row.schema_version,
      id: row.id,
      time: row.time,
      kind: row.kind,
      actor: row.actor,
      subject: row.subject,
      links: row.links,
      data: row.data,
    })
    if (checked.ok) return checked.value
    options.onDamage?.({ location: `${this.location} ${JOURNAL_TABLE}`, id: row.id, reason: checked.reason })
    return undefined
  }
}

/** SQL conditions of a filter, with parameters numbered from `first`. */
function conditions(filter: JournalFilter, first: number): { sql: string; values: unknown[] } {
  const parts: string[] = []
  const values: unknown[] = []
  const param = (value: unknown) => {
    values.push(value)
    return `$${first + values.length - 1}`
  }
  if (filter.kinds?.length) {
    const exact = param(filter.kinds)
    const prefixes = param(filter.kinds.map((kind) => `${kind.replace(/[\\%_]/g, '\\$&')}.%`))
    parts.push(`(kind = ANY(${exact}::text[]) OR kind LIKE ANY(${prefixes}::text[]))`)
  }
  if (filter.subjects?.length) parts.push(`subject = ANY(${param(filter.subjects)}::text[])`)
  if (filter.since !== undefined) parts.push(`time >= ${param(new Date(filter.since).toISOString())}::timestamptz`)
  if (filter.until !== undefined) parts.push(`time < ${param(new Date(filter.until).toISOString())}::timestamptz`)
  return { sql: parts.join(' AND '), values }
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`
  } catch {
    return 'PostgreSQL (invalid URL)'
  }
}

/** Errors that mean the server connection is gone (admin shutdown, crash, network). */
function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  if (
    typeof code === 'string' &&
    (code.startsWith('57P') || code.startsWith('08') || ['ECONNRESET', 'EPIPE', 'ECONNREFUSED'].includes(code))
  )
    return true
  return /Connection terminated|connection was closed|Client has encountered a connection error/i.test((error as Error)?.message ?? '')
}
