/** PostgreSQL `integer` ids stop here; a larger id cannot exist and must not reach the database. */
export const MAX_ID = 2_147_483_647

/** A path or query id, or undefined when it is not a positive integer that fits an `integer`. */
export function parseId(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined
  const id = Number(text)
  return id >= 1 && id <= MAX_ID ? id : undefined
}
