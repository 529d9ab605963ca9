import type pg from 'pg'

/**
 * Runs `work` inside BEGIN/COMMIT on one client from the pool; any error rolls back, so nothing
 * the work wrote survives a failure. A client whose ROLLBACK failed is in an unknown state and is
 * destroyed instead of going back to the pool.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError
    })
    throw error
  } finally {
    client.release(broken)
  }
}
