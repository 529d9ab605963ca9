import pg from 'pg'

/** Whether a PostgreSQL server answers `SELECT 1` at this URL within the timeout. */
export async function canConnect(url: string, timeoutMs = 2000): Promise<boolean> {
  return (await probeDatabase(url, timeoutMs)) === undefined
}

/** undefined when the server answers; otherwise the error. */
export async function probeDatabase(url: string, timeoutMs = 2000): Promise<Error | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (error) {
    return error as Error
  } finally {
    await client.end().catch(() => {})
  }
}
